import { z } from 'zod';
import { resourcePath, type ApiResource } from '../../k8s/discovery.js';
import { slimObject } from '../../output/format.js';
import { dryRunArg, objectRefArgs } from '../args.js';
import { defineTool, WRITE_MAY_DESTROY, type ToolContext } from '../define.js';
import { fieldManagerFor } from './field-manager.js';
import { namespaceFor, resolveResource, type KubeObject } from './common.js';
import { destructiveChanges, diffObjects } from './object-diff.js';
import { checkedSecretJsonPatch, isCoreSecret } from './secret-patch.js';

const CONTENT_TYPES = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
} as const;

const patchInput = z.object({
  ...objectRefArgs,
  type: z.enum(['merge', 'json', 'strategic']).default('merge').describe('Patch type.'),
  patch: z
    .union([z.string(), z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown()))])
    .describe('The patch: an object for merge/strategic, an array of operations for json, or the same as JSON text.'),
  dryRun: dryRunArg,
});
type PatchArgs = z.infer<typeof patchInput>;

/** Sends the patch (as a server-side dry run when `dryRun`), returning the object as stored. */
async function sendPatch(ctx: ToolContext, r: ApiResource, a: PatchArgs, dryRun: boolean): Promise<KubeObject> {
  const ns = namespaceFor(r, a.namespace);
  // A JSON patch can copy, move or test a Secret's values; merge and strategic patches cannot read anything.
  const body = a.type === 'json' && isCoreSecret(r) ? checkedSecretJsonPatch(a.patch) : typeof a.patch === 'string' ? a.patch : JSON.stringify(a.patch);
  return ctx.clients().rest.json<KubeObject>('PATCH', resourcePath(r, ns, a.name), {
    body,
    contentType: CONTENT_TYPES[a.type],
    // Like apply: the user's own field manager, and unknown fields refused rather than dropped silently.
    query: { fieldManager: await fieldManagerFor(ctx), fieldValidation: 'Strict', dryRun: dryRun ? 'All' : undefined },
    signal: ctx.signal,
  });
}

export const resourcesPatch = defineTool({
  name: 'resources_patch',
  title: 'Resources: Patch',
  description:
    'Patch one object. type "merge" (RFC 7386, default), "json" (RFC 6902 operations array) or "strategic" (Kubernetes strategic merge, built-in kinds only). Returns the patched object. A non-destructive cluster refuses a patch that would remove a field or scale to 0 (judged on a server-side dry run first); patches that only add or change values are allowed.',
  input: patchInput,
  annotations: WRITE_MAY_DESTROY,
  kinds: (a) => [a.kind],
  async destroys(a, ctx) {
    if (a.dryRun) return undefined;
    const r = await resolveResource(ctx, a.kind, a.apiVersion);
    const live = await ctx.clients().rest.get<KubeObject>(resourcePath(r, namespaceFor(r, a.namespace), a.name), { signal: ctx.signal });
    const found = destructiveChanges(diffObjects(live, await sendPatch(ctx, r, a, true)));
    return found.length ? found.join(', ') : undefined;
  },
  async run(a, ctx) {
    const r = await resolveResource(ctx, a.kind, a.apiVersion);
    const stored = await sendPatch(ctx, r, a, a.dryRun);
    return {
      text: `${r.kind.toLowerCase()}/${a.name} patched${a.dryRun ? ' (dry run, nothing persisted)' : ''}\n---\n`,
      data: slimObject({ apiVersion: `${r.group ? r.group + '/' : ''}${r.version}`, kind: r.kind, ...stored }, 'normal'),
    };
  },
});
