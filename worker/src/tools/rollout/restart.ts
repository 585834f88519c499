import { z } from 'zod';
import { resourcePath } from '../../k8s/discovery.js';
import { clusterArg, dryRunArg, nameArg, namespaceArg } from '../args.js';
import { defineTool, WRITE } from '../define.js';
import { fieldManagerFor } from '../resources/field-manager.js';
import { ROLLOUT_RESOURCES, rolloutKindArg } from './common.js';

export const rolloutRestart = defineTool({
  name: 'rollout_restart',
  title: 'Rollout: Restart',
  description: 'Restart the pods of a Deployment, StatefulSet or DaemonSet with a rolling update (like kubectl rollout restart). Check progress with rollout_status.',
  input: z.object({ cluster: clusterArg, kind: rolloutKindArg, name: nameArg, namespace: namespaceArg, dryRun: dryRunArg }),
  annotations: { ...WRITE, idempotentHint: false },
  kinds: (a) => [a.kind],
  async run(a, ctx) {
    const ns = a.namespace ?? 'default';
    const at = new Date().toISOString();
    await ctx.clients().rest.json('PATCH', resourcePath(ROLLOUT_RESOURCES[a.kind], ns, a.name), {
      body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } } },
      contentType: 'application/strategic-merge-patch+json',
      query: { fieldManager: await fieldManagerFor(ctx), dryRun: a.dryRun ? 'All' : undefined },
      signal: ctx.signal,
    });
    return { text: `${a.kind.toLowerCase()}/${a.name} in ${ns} restarted at ${at}${a.dryRun ? ' (dry run, nothing changed)' : ''}` };
  },
});
