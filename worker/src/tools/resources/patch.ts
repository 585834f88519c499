import { z } from 'zod';
import { resourcePath } from '../../k8s/discovery.js';
import { slimObject } from '../../output/format.js';
import { dryRunArg, objectRefArgs } from '../args.js';
import { defineTool, WRITE } from '../define.js';
import { fieldManagerFor } from './field-manager.js';
import { namespaceFor, resolveResource, type KubeObject } from './common.js';
import { checkedSecretJsonPatch, isCoreSecret } from './secret-patch.js';

const CONTENT_TYPES = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
} as const;

export const resourcesPatch = defineTool({
  name: 'resources_patch',
  title: 'Resources: Patch',
  description:
    'Patch one object. type "merge" (RFC 7386, default), "json" (RFC 6902 operations array) or "strategic" (Kubernetes strategic merge, built-in kinds only). Returns the patched object.',
  input: z.object({
    ...objectRefArgs,
    type: z.enum(['merge', 'json', 'strategic']).default('merge').describe('Patch type.'),
    patch: z
      .union([z.string(), z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown()))])
      .describe('The patch: an object for merge/strategic, an array of operations for json, or the same as JSON text.'),
    dryRun: dryRunArg,
  }),
  annotations: WRITE,
  kinds: (a) => [a.kind],
  async run(a, ctx) {
    const r = await resolveResource(ctx, a.kind, a.apiVersion);
    const ns = namespaceFor(r, a.namespace);
    // A JSON patch can copy, move or test a Secret's values; merge and strategic patches cannot read anything.
    const body = a.type === 'json' && isCoreSecret(r) ? checkedSecretJsonPatch(a.patch) : typeof a.patch === 'string' ? a.patch : JSON.stringify(a.patch);
    const stored = await ctx.clients().rest.json<KubeObject>('PATCH', resourcePath(r, ns, a.name), {
      body,
      contentType: CONTENT_TYPES[a.type],
      // Like apply: the user's own field manager, and unknown fields refused rather than dropped silently.
      query: { fieldManager: await fieldManagerFor(ctx), fieldValidation: 'Strict', dryRun: a.dryRun ? 'All' : undefined },
      signal: ctx.signal,
    });
    return {
      text: `${r.kind.toLowerCase()}/${a.name} patched${a.dryRun ? ' (dry run, nothing persisted)' : ''}\n---\n`,
      data: slimObject({ apiVersion: `${r.group ? r.group + '/' : ''}${r.version}`, kind: r.kind, ...stored }, 'normal'),
    };
  },
});
