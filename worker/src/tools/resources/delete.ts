import { z } from 'zod';
import { resourcePath } from '../../k8s/discovery.js';
import { dryRunArg, objectRefArgs } from '../args.js';
import { defineTool, DESTRUCTIVE, type ToolContext, type ToolOutput } from '../define.js';
import { namespaceFor, objectRef, resolveResource } from './common.js';
import type { ApiResource } from '../../k8s/discovery.js';
import { sleep } from '../wait.js';

export const deleteArgs = {
  propagationPolicy: z
    .enum(['Foreground', 'Background', 'Orphan'])
    .optional()
    .describe('What happens to dependents: Background (default for most kinds), Foreground, or Orphan.'),
  gracePeriodSeconds: z.number().int().min(0).optional().describe('Seconds before forced termination; 0 deletes immediately.'),
  wait: z.number().int().min(0).max(120).default(0).describe('Seconds to wait until the object is gone (0-120, default 0 = return once deletion is accepted). Says which finalizers still hold it.'),
};

/** Polls until the object is gone or the wait is over; returns what still holds it. */
async function waitGone(ctx: ToolContext, path: string, seconds: number): Promise<{ gone: boolean; waited: number; finalizers: string[] }> {
  const started = Date.now();
  for (;;) {
    const res = await ctx.clients().rest.raw('GET', path, { signal: ctx.signal });
    const waited = Math.round((Date.now() - started) / 1000);
    if (res.status === 404) return { gone: true, waited, finalizers: [] };
    if (Date.now() - started + 1000 > seconds * 1000 || ctx.signal.aborted) {
      let finalizers: string[] = [];
      try {
        finalizers = (JSON.parse(res.text) as { metadata?: { finalizers?: string[] } }).metadata?.finalizers ?? [];
      } catch {
        finalizers = [];
      }
      return { gone: false, waited, finalizers };
    }
    await sleep(1000, ctx.signal);
  }
}

export async function deleteObject(
  ctx: ToolContext,
  r: ApiResource,
  a: { name: string; namespace?: string; dryRun: boolean; propagationPolicy?: string; gracePeriodSeconds?: number; wait?: number },
): Promise<ToolOutput> {
  const ns = namespaceFor(r, a.namespace);
  const path = resourcePath(r, ns, a.name);
  await ctx.clients().rest.json('DELETE', path, {
    query: { dryRun: a.dryRun ? 'All' : undefined, propagationPolicy: a.propagationPolicy, gracePeriodSeconds: a.gracePeriodSeconds },
    signal: ctx.signal,
  });
  const ref = objectRef(r, a.name, ns);
  let waited = '';
  if (!a.dryRun && a.wait) {
    const w = await waitGone(ctx, path, a.wait);
    waited = w.gone
      ? ` and gone${w.waited ? ` after ${w.waited}s` : ''}`
      : `, but still present after waiting ${w.waited}s${w.finalizers.length ? ` (held by finalizers: ${w.finalizers.join(', ')})` : ' (graceful termination still running)'}`;
  }
  return {
    text: a.dryRun ? `${ref} would be deleted (dry run, nothing deleted)` : `${ref} deleted${waited}`,
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
