import { z } from 'zod';
import { renderColumns } from '../../output/format.js';
import { defineTool } from '../define.js';

export const clustersList = defineTool({
  name: 'clusters_list',
  title: 'Clusters: List',
  description: 'The clusters this server can reach, which one is the default, how it authenticates you, and its safety mode. Pass a name as `cluster` to other tools.',
  input: z.object({}),
  output: z.object({
    clusters: z.array(z.object({ name: z.string(), default: z.boolean(), identity: z.string(), mode: z.string(), server: z.string().optional() })),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(_a, ctx) {
    const def = ctx.config.defaultCluster ?? ctx.config.clusters[0]!.name;
    const clusters = ctx.config.clusters.map((c) => ({
      name: c.name,
      default: c.name === def,
      identity: c.identity,
      mode: c.policy.readOnly ? 'read-only' : c.policy.nonDestructive ? 'non-destructive' : 'read-write',
      ...(c.server ? { server: c.server } : {}),
    }));
    const text = renderColumns(
      ['NAME', 'DEFAULT', 'IDENTITY', 'MODE', 'SERVER'],
      clusters.map((c) => [c.name, c.default ? '*' : '', c.identity, c.mode, c.server ?? '(kubeconfig)']),
    );
    return { text, structured: { clusters } };
  },
});
