import { z } from 'zod';
import { resourcePath } from '../../k8s/discovery.js';
import { ToolRefusal } from '../../k8s/errors.js';
import { lineDiff } from '../../output/diff.js';
import { renderColumnLines, toYaml } from '../../output/format.js';
import { clusterArg, dryRunArg, nameArg, namespaceArg } from '../args.js';
import { defineTool, READ, WRITE } from '../define.js';
import { listOutputSchema } from '../resources/common.js';
import { fieldManagerFor } from '../resources/field-manager.js';
import { ROLLOUT_RESOURCES, rolloutKindArg } from './common.js';
import { getWorkload, pickRevision, revisionsOf, templateForDeployment } from './history.js';

export const rolloutHistory = defineTool({
  name: 'rollout_history',
  title: 'Rollout: History',
  description: 'The revisions of a Deployment, StatefulSet or DaemonSet (like kubectl rollout history): revision, images and change-cause, newest last, the current one marked. Roll back with rollout_undo.',
  input: z.object({ cluster: clusterArg, kind: rolloutKindArg, name: nameArg, namespace: namespaceArg }),
  output: listOutputSchema,
  annotations: READ,
  kinds: (a) => [a.kind, a.kind === 'Deployment' ? 'ReplicaSet' : 'ControllerRevision'],
  async run(a, ctx) {
    const ns = a.namespace ?? 'default';
    const w = await getWorkload(ctx, a.kind, ns, a.name);
    const revisions = await revisionsOf(ctx, a.kind, ns, w);
    const current = revisions.at(-1)?.revision;
    const cells = revisions.map((r) => [String(r.revision) + (r.revision === current ? ' (current)' : ''), r.images.join(', '), r.changeCause || '<none>', r.source]);
    const { columns, lines } = renderColumnLines(['REVISION', 'IMAGES', 'CHANGE-CAUSE', 'FROM'], cells);
    return {
      list: {
        header: (k, cut) => (revisions.length ? `# ${k}${cut ? ' (cut by the byte budget)' : ''} revisions of ${a.kind.toLowerCase()} ${ns}/${a.name}, oldest first\n` : `No revisions recorded for ${a.kind.toLowerCase()} ${ns}/${a.name}.`),
        ...(revisions.length ? { columns } : {}),
        lines,
        rows: revisions.map((r) => ({ revision: String(r.revision), images: r.images.join(', '), changeCause: r.changeCause, source: r.source, current: String(r.revision === current) })),
        structured: { kind: 'Revision' },
        noun: 'revisions',
      },
    };
  },
});

export const rolloutUndo = defineTool({
  name: 'rollout_undo',
  title: 'Rollout: Undo',
  description:
    'Roll a Deployment, StatefulSet or DaemonSet back to a revision (default: the one before the current), like kubectl rollout undo. With dryRun the apiserver validates the rollback without persisting it and the result shows the pod-template diff it would make. Follow with rollout_status (wait) to see it finish.',
  input: z.object({
    cluster: clusterArg,
    kind: rolloutKindArg,
    name: nameArg,
    namespace: namespaceArg,
    toRevision: z.number().int().min(1).optional().describe('Revision to roll back to (rollout_history lists them). Default: the previous one.'),
    dryRun: dryRunArg,
  }),
  output: z.object({ from: z.number().int(), to: z.number().int(), dryRun: z.boolean(), changed: z.boolean() }),
  annotations: { ...WRITE, idempotentHint: false },
  kinds: (a) => [a.kind],
  async run(a, ctx) {
    const ns = a.namespace ?? 'default';
    const w = await getWorkload(ctx, a.kind, ns, a.name);
    const revisions = await revisionsOf(ctx, a.kind, ns, w);
    const target = pickRevision(revisions, a.toRevision);
    const from = revisions.at(-1)!.revision;
    const path = resourcePath(ROLLOUT_RESOURCES[a.kind], ns, a.name);
    const query = { fieldManager: await fieldManagerFor(ctx), dryRun: a.dryRun ? 'All' : undefined };
    let after: { spec?: { template?: unknown } };
    if (a.kind === 'Deployment') {
      if (w.spec?.paused) throw new ToolRefusal(`deployment ${ns}/${a.name} is paused: rollout_resume it before rolling back`);
      if (!target.template) throw new ToolRefusal(`revision ${target.revision} (${target.source}) has no pod template`);
      after = await ctx.clients().rest.json('PATCH', path, {
        body: [{ op: 'replace', path: '/spec/template', value: templateForDeployment(target.template) }],
        contentType: 'application/json-patch+json',
        query,
        signal: ctx.signal,
      });
    } else {
      after = await ctx.clients().rest.json('PATCH', path, { body: target.patch ?? {}, contentType: 'application/strategic-merge-patch+json', query, signal: ctx.signal });
    }
    const diff = lineDiff(toYaml(w.spec?.template ?? {}), toYaml(after.spec?.template ?? {}));
    const changed = diff !== '(no changes)';
    const verb = a.dryRun ? 'would roll back' : 'rolled back';
    return {
      text: `${a.kind.toLowerCase()} ${ns}/${a.name} ${verb} from revision ${from} to revision ${target.revision} (${target.images.join(', ') || 'no images'})${a.dryRun ? ' (dry run, nothing changed)' : ''}${changed ? '' : '; the template was already the same, so nothing rolls'}.\npod template diff (current → ${a.dryRun ? 'after rollback' : 'now'}):\n${diff}`,
      structured: { from, to: target.revision, dryRun: a.dryRun, changed },
    };
  },
});

function pauseTool(pause: boolean) {
  return defineTool({
    name: pause ? 'rollout_pause' : 'rollout_resume',
    title: pause ? 'Rollout: Pause' : 'Rollout: Resume',
    description: pause
      ? 'Pause a Deployment\'s rollout (spec.paused=true): template changes are recorded but not rolled out until rollout_resume.'
      : 'Resume a paused Deployment\'s rollout (spec.paused=false); changes made while paused roll out now.',
    input: z.object({ cluster: clusterArg, name: nameArg, namespace: namespaceArg, dryRun: dryRunArg }),
    output: z.object({ paused: z.boolean(), wasPaused: z.boolean(), dryRun: z.boolean() }),
    annotations: WRITE,
    kinds: () => ['Deployment'],
    async run(a, ctx) {
      const ns = a.namespace ?? 'default';
      const w = await getWorkload(ctx, 'Deployment', ns, a.name);
      const wasPaused = Boolean(w.spec?.paused);
      await ctx.clients().rest.json('PATCH', resourcePath(ROLLOUT_RESOURCES.Deployment, ns, a.name), {
        body: { spec: { paused: pause } },
        contentType: 'application/merge-patch+json',
        query: { fieldManager: await fieldManagerFor(ctx), dryRun: a.dryRun ? 'All' : undefined },
        signal: ctx.signal,
      });
      const what = wasPaused === pause ? `was already ${pause ? 'paused' : 'running (not paused)'}` : `${pause ? 'paused' : 'resumed'}`;
      return { text: `deployment ${ns}/${a.name} ${what}${a.dryRun ? ' (dry run, nothing changed)' : ''}`, structured: { paused: pause, wasPaused, dryRun: a.dryRun } };
    },
  });
}

export const rolloutPause = pauseTool(true);
export const rolloutResume = pauseTool(false);
