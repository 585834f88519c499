import { z } from 'zod';
import { resourcePath, type ApiResource } from '../../k8s/discovery.js';
import { KubeApiError, ToolRefusal, toolErrorText } from '../../k8s/errors.js';
import { lineDiff } from '../../output/diff.js';
import { toYaml } from '../../output/format.js';
import { maskSecrets } from '../../output/mask.js';
import { clusterArg, namespaceArg } from '../args.js';
import { defineTool, DESTRUCTIVE, type ToolContext } from '../define.js';
import { parseManifest } from '../resources/apply.js';
import { isCoreSecret } from '../resources/secret-patch.js';
import { namespaceFor, resolveResource, type KubeObject } from '../resources/common.js';
import { fieldManagerFor } from '../resources/field-manager.js';
import { adoptHelmFields, applyRemoval, rollbackRemoval, type ManagedFieldsEntry } from './field-ownership.js';
import { collectManifestSecrets, maskHelmValues, maskKnownValues } from './mask-values.js';
import { fetchReleaseSecret, listReleaseMetas, type HelmRelease } from './release.js';
import { createReleaseSecret, releaseSecretName, updateReleaseSecret } from './storage.js';

const KEEP_ANNOTATION = 'helm.sh/resource-policy';
const DIFF_LINES = 60;
const CHANGED_PATHS = 20;

type Action = 'create' | 'update' | 'unchanged' | 'delete' | 'keep';

interface Planned {
  r: ApiResource;
  namespace?: string;
  name: string;
  body?: KubeObject;
  action: Action;
  changed: string[];
  diff?: string;
  /** The live object has fields helm owns: they are handed to the applying manager first, see field-ownership.ts. */
  adopt?: boolean;
}

/** A revision's manifest as objects; a chart that renders only hooks has none. */
function manifestObjects(manifest: string | undefined): KubeObject[] {
  if (!manifest?.trim()) return [];
  try {
    return parseManifest(manifest);
  } catch (err) {
    if (err instanceof ToolRefusal && err.message === 'manifest has no objects') return [];
    throw new ToolRefusal(`the release's stored manifest cannot be read (${(err as Error).message}); helm could not roll it back either`);
  }
}

/** What helm's rollback stamps on every object it applies (setMetadataVisitor): the release owns it. */
function withHelmOwnership(o: KubeObject, release: string, namespace: string, objectNamespace: string | undefined): KubeObject {
  const meta = (o.metadata ?? {}) as { labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  return {
    ...o,
    metadata: {
      ...meta,
      ...(objectNamespace ? { namespace: objectNamespace } : {}),
      labels: { ...(meta.labels ?? {}), 'app.kubernetes.io/managed-by': 'Helm' },
      annotations: { ...(meta.annotations ?? {}), 'meta.helm.sh/release-name': release, 'meta.helm.sh/release-namespace': namespace },
    },
  };
}

/** The object without what the apiserver changes on every write, for comparing live with the dry-run result. */
function comparable(o: KubeObject): Record<string, unknown> {
  const { status: _s, metadata, ...rest } = o;
  const { managedFields: _m, resourceVersion: _r, generation: _g, creationTimestamp: _c, uid: _u, ...meta } = (metadata ?? {}) as Record<string, unknown>;
  return { ...rest, metadata: meta };
}

/** Leaf paths where two JSON values differ ("spec.template.spec.containers[0].image"). */
export function changedPaths(a: unknown, b: unknown, at = '', out: string[] = []): string[] {
  if (out.length >= CHANGED_PATHS) return out;
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((x, i) => changedPaths(x, b[i], `${at}[${i}]`, out));
  } else if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) changedPaths(a[k], b[k], at ? `${at}.${k}` : k, out);
  } else if (JSON.stringify(a) !== JSON.stringify(b)) out.push(at || '(whole object)');
  return out;
}

/**
 * A Secret's changed paths without its values compared: the target revision's data could be anyone's guess (a
 * release Secret is only a Secret), and "data.password changed" or "unchanged" would say whether it is right.
 */
export function secretChangedPaths(changed: string[], after: Record<string, unknown>): string[] {
  const rest = changed.filter((p) => !/^(data|stringData)([.[]|$)/.test(p));
  return after.data || after.stringData ? [...rest, 'data (Secret values are not compared)'] : rest;
}

function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}

function describeObject(p: Pick<Planned, 'r' | 'namespace' | 'name'>): string {
  return `${p.r.kind}/${p.name}${p.namespace ? ` (namespace ${p.namespace})` : ''}`;
}

/** What applying the target revision would do to each object: a server-side dry-run apply per object, compared with the live one. */
async function plan(ctx: ToolContext, rel: { name: string; namespace: string }, target: KubeObject[], current: KubeObject[], fieldManager: string, hidden: Set<string>): Promise<Planned[]> {
  const rest = ctx.clients().rest;
  const out: Planned[] = [];
  const keys = new Set<string>();
  const keyOf = (r: ApiResource, ns: string | undefined, name: string) => `${r.group}/${r.kind}/${ns ?? ''}/${name}`;
  for (const o of target) {
    const r = await resolveResource(ctx, o.kind!, o.apiVersion);
    const ns = namespaceFor(r, o.metadata?.namespace ?? rel.namespace);
    const name = o.metadata!.name!;
    keys.add(keyOf(r, ns, name));
    const body = withHelmOwnership(o, rel.name, rel.namespace, ns);
    const live = await rest.get<KubeObject>(resourcePath(r, ns, name), { signal: ctx.signal }).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    const dry = await rest
      .json<KubeObject>('PATCH', resourcePath(r, ns, name), {
        body,
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager, force: true, fieldValidation: 'Strict', dryRun: 'All' },
        signal: ctx.signal,
      })
      .catch((err: unknown) => {
        throw new ToolRefusal(`the target revision's ${describeObject({ r, namespace: ns, name })} does not apply (server-side dry run): ${toolErrorText(err)}. Nothing was changed`);
      });
    const managed = (x: KubeObject | undefined) => ((x?.metadata as { managedFields?: ManagedFieldsEntry[] } | undefined)?.managedFields ?? []);
    let dryObj: KubeObject = { apiVersion: o.apiVersion, kind: o.kind, ...dry };
    const removal = live ? rollbackRemoval(managed(live), managed(dry), fieldManager) : {};
    if (live && Object.keys(removal).length) {
      // The dry run applied without adopting helm's fields. What the adoption would also remove is taken out, and the
      // result is sent as a dry-run update, so the apiserver defaults what it would default after the real apply.
      const trimmed = applyRemoval(dryObj, removal) as KubeObject;
      const { managedFields: _m, ...meta } = (trimmed.metadata ?? {}) as Record<string, unknown>;
      meta.resourceVersion = (live.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
      const updated = await rest
        .json<KubeObject>('PUT', resourcePath(r, ns, name), { body: { ...trimmed, metadata: meta }, query: { dryRun: 'All', fieldValidation: 'Strict' }, signal: ctx.signal })
        .catch((err: unknown) => {
          throw new ToolRefusal(`the target revision's ${describeObject({ r, namespace: ns, name })} does not apply once the fields only the current revision set are removed (server-side dry run): ${toolErrorText(err)}. Nothing was changed`);
        });
      dryObj = { apiVersion: o.apiVersion, kind: o.kind, ...updated };
    }
    if (!live) {
      out.push({ r, namespace: ns, name, body, action: 'create', changed: [] });
      continue;
    }
    const before = comparable({ apiVersion: o.apiVersion, kind: o.kind, ...live });
    const after = comparable(dryObj);
    const changed = isCoreSecret(r) ? secretChangedPaths(changedPaths(before, after), after) : changedPaths(before, after);
    // Paths name fields, never values; the diff masks Secrets and every value the release's values or Secrets hide.
    const diff = changed.length && r.kind !== 'Secret' ? maskKnownValues(lineDiff(toYaml(maskSecrets(before)), toYaml(maskSecrets(after))), hidden) : undefined;
    const adopt = adoptHelmFields(managed(live), fieldManager, o.apiVersion!) !== undefined;
    out.push({ r, namespace: ns, name, body, action: changed.length ? 'update' : 'unchanged', changed, adopt, ...(diff ? { diff } : {}) });
  }
  for (const o of current) {
    const r = await resolveResource(ctx, o.kind!, o.apiVersion);
    const ns = namespaceFor(r, o.metadata?.namespace ?? rel.namespace);
    const name = o.metadata!.name!;
    if (keys.has(keyOf(r, ns, name))) continue;
    const live = await rest.get<KubeObject>(resourcePath(r, ns, name), { signal: ctx.signal }).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (!live) continue;
    const keep = (live.metadata as { annotations?: Record<string, string> } | undefined)?.annotations?.[KEEP_ANNOTATION] === 'keep';
    out.push({ r, namespace: ns, name, action: keep ? 'keep' : 'delete', changed: [] });
  }
  return out;
}

/** Hands the fields helm owns on the live object to `fieldManager` (one JSON patch, guarded by resourceVersion). */
async function adoptFields(ctx: ToolContext, p: Planned, fieldManager: string): Promise<void> {
  const rest = ctx.clients().rest;
  const path = resourcePath(p.r, p.namespace, p.name);
  const live = await rest.get<KubeObject>(path, { signal: ctx.signal });
  const meta = live.metadata as { resourceVersion?: string; managedFields?: ManagedFieldsEntry[] } | undefined;
  const adopted = adoptHelmFields(meta?.managedFields ?? [], fieldManager, p.body!.apiVersion!);
  if (!adopted) return;
  await rest.json('PATCH', path, {
    body: [
      { op: 'test', path: '/metadata/resourceVersion', value: meta?.resourceVersion },
      { op: 'replace', path: '/metadata/managedFields', value: adopted },
    ],
    contentType: 'application/json-patch+json',
    signal: ctx.signal,
  });
}

function rollbackHooks(release: HelmRelease & { hooks?: Array<{ events?: string[] }> }): number {
  return (release.hooks ?? []).filter((h) => h.events?.some((e) => e === 'pre-rollback' || e === 'post-rollback')).length;
}

const ACTION_TEXT: Record<Action, string> = { create: 'create', update: 'update', unchanged: 'unchanged', delete: 'delete', keep: 'keep (helm.sh/resource-policy: keep)' };

export const helmRollback = defineTool({
  name: 'helm_rollback',
  title: 'Helm: Rollback',
  description:
    "Roll a Helm release back to an earlier revision, doing at the API level what `helm rollback --no-hooks` does: the target revision's manifest is applied with server-side apply (as your own field manager, force, fieldValidation Strict, with helm's ownership label and annotations; the fields helm owns are first handed to your manager, so fields the current revision set and the target does not are removed, as helm's three-way merge removes them, while fields other managers set stay), objects of the current revision the target does not have are deleted (unless annotated helm.sh/resource-policy: keep), and a new revision is recorded in helm's own storage (a release Secret: pending-rollback, then deployed with description \"Rollback to N\", earlier deployed revisions marked superseded; a failure is recorded as failed), so helm and helm_history see it. Chart hooks are not run; the result says how many rollback hooks were skipped. dryRun defaults to true: the plan lists each object (create, update with the changed fields and a diff, delete, unchanged) from a server-side dry-run apply, and the revision that would be written; nothing is changed. Values and Secret data are masked.",
  input: z.object({
    cluster: clusterArg,
    name: z.string().min(1).describe('Release name (helm_releases_list shows them).'),
    namespace: namespaceArg.describe('Namespace of the release (default "default").'),
    revision: z.number().int().min(1).optional().describe('Revision to roll back to (helm_history lists them). Default: the one before the current.'),
    dryRun: z.boolean().default(true).describe('Default true: only plan (server-side dry-run apply of every object, compared with the live ones); nothing is changed. Pass false to roll back.'),
  }),
  output: z.object({
    release: z.string(),
    namespace: z.string(),
    from: z.number().int().describe('The current revision.'),
    to: z.number().int().describe('The revision rolled back to.'),
    newRevision: z.number().int().describe('The revision the rollback records (current + 1).'),
    dryRun: z.boolean(),
    status: z.string().describe('"planned" for a dry run, else the new revision\'s status (deployed).'),
    objects: z.array(z.object({ kind: z.string(), name: z.string(), namespace: z.string().optional(), action: z.enum(['create', 'update', 'unchanged', 'delete', 'keep']), changed: z.array(z.string()) })),
    hooksNotRun: z.number().int().describe('pre-rollback and post-rollback hooks of the target revision that were not run.'),
  }),
  annotations: DESTRUCTIVE,
  kinds: () => ['Secret'],
  async run(a, ctx) {
    const ns = a.namespace ?? 'default';
    const { metas } = await listReleaseMetas(ctx, ns, { name: a.name, cap: 5000 });
    metas.sort((x, y) => x.version - y.version);
    const current = metas.at(-1);
    if (!current) throw new ToolRefusal(`NotFound: no Helm release ${a.name} in namespace ${ns} of cluster ${ctx.cluster.name}; helm_releases_list with all=true lists the releases you can see`);
    const to = a.revision ?? current.version - 1;
    const targetMeta = metas.find((m) => m.version === to);
    if (!targetMeta) {
      throw new ToolRefusal(
        to < 1
          ? `Helm release ${ns}/${a.name} has only revision ${current.version}; there is nothing before it to roll back to`
          : `Helm release ${ns}/${a.name} has no revision ${to} (revisions: ${metas.map((m) => m.version).join(', ')}); helm_history shows them`,
      );
    }
    const [cur, tgt] = await Promise.all([fetchReleaseSecret(ctx, ns, current.secret), fetchReleaseSecret(ctx, ns, targetMeta.secret)]);
    const hidden = new Set<string>();
    for (const r of [cur.release, tgt.release]) {
      maskHelmValues(r.config ?? {}, hidden);
      maskHelmValues(r.chart?.values ?? {}, hidden);
      collectManifestSecrets(r.manifest ?? '', hidden);
    }
    const fieldManager = await fieldManagerFor(ctx);
    const planned = await plan(ctx, { name: a.name, namespace: ns }, manifestObjects(tgt.release.manifest), manifestObjects(cur.release.manifest), fieldManager, hidden);
    const newRevision = current.version + 1;
    const hooks = rollbackHooks(tgt.release);
    const chartOf = (r: HelmRelease) => `${r.chart?.metadata?.name ?? '?'}-${r.chart?.metadata?.version ?? '?'}`;
    const objectLines = planned.map((p) => {
      const what = `  ${ACTION_TEXT[p.action].padEnd(9)} ${describeObject(p)}${p.action === 'delete' ? ` (in revision ${current.version}, not in revision ${to})` : ''}`;
      const fields = p.changed.length ? `: ${p.changed.join(', ')}${p.changed.length >= CHANGED_PATHS ? ', …' : ''}` : '';
      const diff = p.diff ? '\n' + p.diff.split('\n').slice(0, DIFF_LINES).map((l) => `      ${l}`).join('\n') : '';
      return what + fields + diff;
    });
    const structured = (status: string) => ({
      release: a.name,
      namespace: ns,
      from: current.version,
      to,
      newRevision,
      dryRun: a.dryRun,
      status,
      objects: planned.map((p) => ({ kind: p.r.kind, name: p.name, ...(p.namespace ? { namespace: p.namespace } : {}), action: p.action, changed: p.changed })),
      hooksNotRun: hooks,
    });
    const hookNote = hooks ? `${hooks} pre/post-rollback hook(s) of revision ${to} are not run (like helm rollback --no-hooks).` : '';
    const heading = `release ${ns}/${a.name}: revision ${current.version} (${current.status}, ${chartOf(cur.release)}) → revision ${to} (${chartOf(tgt.release)}), recorded as revision ${newRevision} "Rollback to ${to}"`;

    if (a.dryRun) {
      const text = [
        `Dry run, nothing changed. Each object below was applied with a server-side dry run (dryRun=All, field manager ${fieldManager}, force, fieldValidation Strict) and compared with the live object.`,
        heading,
        'Objects:',
        ...(objectLines.length ? objectLines : ['  (the target revision renders no objects)']),
        `Release storage: Secret ${releaseSecretName(a.name, newRevision)} would be created (status pending-rollback, then deployed); ${metas.some((m) => m.status === 'deployed') ? `revision ${metas.filter((m) => m.status === 'deployed').map((m) => m.version).join(', ')} (now deployed) would be marked superseded` : 'no revision is deployed now'}.`,
        hookNote,
        'Call again with dryRun=false to roll back.',
      ].filter(Boolean);
      return { text: text.join('\n'), structured: structured('planned') };
    }

    const now = new Date().toISOString();
    const target: HelmRelease = {
      ...tgt.release,
      name: a.name,
      namespace: ns,
      version: newRevision,
      info: { first_deployed: cur.release.info?.first_deployed, last_deployed: now, status: 'pending-rollback', notes: tgt.release.info?.notes, description: `Rollback to ${to}` },
    };
    let created;
    try {
      created = await createReleaseSecret(ctx, target, false);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) throw new ToolRefusal(`revision ${newRevision} of Helm release ${ns}/${a.name} was written by someone else meanwhile; nothing was changed. Check helm_history and plan again`);
      throw err;
    }
    const rest = ctx.clients().rest;
    const done: string[] = [];
    try {
      for (const p of planned) {
        if (p.action === 'create' || p.action === 'update' || p.action === 'unchanged') {
          if (p.adopt) await adoptFields(ctx, p, fieldManager);
          await rest.json('PATCH', resourcePath(p.r, p.namespace, p.name), {
            body: p.body,
            contentType: 'application/apply-patch+yaml',
            query: { fieldManager, force: true, fieldValidation: 'Strict' },
            signal: ctx.signal,
          });
          done.push(`${p.action === 'unchanged' ? 'applied (unchanged)' : p.action + 'd'} ${describeObject(p)}`);
        } else if (p.action === 'delete') {
          await rest.json('DELETE', resourcePath(p.r, p.namespace, p.name), { query: { propagationPolicy: 'Background' }, signal: ctx.signal }).catch((err: unknown) => {
            if (!isNotFound(err)) throw err;
          });
          done.push(`deleted ${describeObject(p)}`);
        }
      }
    } catch (err) {
      // Helm's bookkeeping for a failed rollback: the new revision is failed with the reason, the current one superseded.
      const why = maskKnownValues(toolErrorText(err), hidden);
      const failed = { ...target, info: { ...target.info, status: 'failed', description: `Rollback "${a.name}" failed: ${why}` } };
      await updateReleaseSecret(ctx, created, failed);
      const fresh = await fetchReleaseSecret(ctx, ns, current.secret);
      await updateReleaseSecret(ctx, fresh.secret, { ...fresh.release, info: { ...fresh.release.info, status: 'superseded' } });
      throw new ToolRefusal(
        `rollback of Helm release ${ns}/${a.name} to revision ${to} failed: ${why}. Done before the failure: ${done.join('; ') || 'nothing'}. Revision ${newRevision} is recorded as failed (as helm records it); fix the cause and roll back again, or run \`helm rollback ${a.name} ${to} -n ${ns}\` where helm runs.`,
      );
    }
    // Supersede every revision still marked deployed (helm issue #2941), then mark the new one deployed.
    const superseded: number[] = [];
    for (const m of metas.filter((x) => x.status === 'deployed')) {
      const fresh = await fetchReleaseSecret(ctx, ns, m.secret);
      if (fresh.release.info?.status !== 'deployed') continue;
      superseded.push(m.version);
      await updateReleaseSecret(ctx, fresh.secret, { ...fresh.release, info: { ...fresh.release.info, status: 'superseded' } });
    }
    await updateReleaseSecret(ctx, created, { ...target, info: { ...target.info, status: 'deployed' } });
    const text = [heading, 'Done:', ...done.map((d) => `  ${d}`), `Recorded revision ${newRevision} (deployed, "Rollback to ${to}")${superseded.length ? `; revision ${superseded.join(', ')} marked superseded` : ''}.`, hookNote, 'helm_history shows it; rollout_status shows the workloads settle.'].filter(Boolean);
    return { text: text.join('\n'), structured: structured('deployed') };
  },
});
