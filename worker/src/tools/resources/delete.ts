import { z } from 'zod';
import { resourcePath } from '../../k8s/discovery.js';
import { dryRunArg, objectRefArgs } from '../args.js';
import { defineTool, DESTRUCTIVE, type ToolContext, type ToolOutput } from '../define.js';
import { namespaceFor, objectRef, resolveResource } from './common.js';
import type { ApiResource } from '../../k8s/discovery.js';

export const deleteArgs = {
  propagationPolicy: z
    .enum(['Foreground', 'Background', 'Orphan'])
    .optional()
    .describe('What happens to dependents: Background (default for most kinds), Foreground, or Orphan.'),
  gracePeriodSeconds: z.number().int().min(0).optional().describe('Seconds before forced termination; 0 deletes immediately.'),
};

export async function deleteObject(
  ctx: ToolContext,
  r: ApiResource,
  a: { name: string; namespace?: string; dryRun: boolean; propagationPolicy?: string; gracePeriodSeconds?: number },
): Promise<ToolOutput> {
  const ns = namespaceFor(r, a.namespace);
  await ctx.clients().rest.json('DELETE', resourcePath(r, ns, a.name), {
    query: { dryRun: a.dryRun ? 'All' : undefined, propagationPolicy: a.propagationPolicy, gracePeriodSeconds: a.gracePeriodSeconds },
    signal: ctx.signal,
  });
  const ref = objectRef(r, a.name, ns);
  return {
    text: a.dryRun ? `${ref} would be deleted (dry run, nothing deleted)` : `${ref} deleted`,
    structured: { deleted: !a.dryRun, dryRun: a.dryRun, kind: r.kind, name: a.name, ...(ns ? { namespace: ns } : {}) },
  };
}

export const deleteOutput = z.object({ deleted: z.boolean(), dryRun: z.boolean(), kind: z.string(), name: z.string(), namespace: z.string().optional() });

export const resourcesDelete = defineTool({
  name: 'resources_delete',
  title: 'Resources: Delete',
  description: 'Delete one object of any kind. Use dryRun to check permission and admission without deleting.',
  input: z.object({
    ...objectRefArgs,
    ...deleteArgs,
    dryRun: dryRunArg,
  }),
  output: deleteOutput,
  annotations: DESTRUCTIVE,
  kinds: (a) => [a.kind],
  async run(a, ctx) {
    const r = await resolveResource(ctx, a.kind, a.apiVersion);
    return deleteObject(ctx, r, a);
  },
});
