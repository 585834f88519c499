import { ToolRefusal } from '../../k8s/errors.js';
import type { ToolContext } from '../define.js';

interface AccessReview {
  status?: { allowed?: boolean; denied?: boolean; reason?: string };
}

export async function selfAccessReview(
  ctx: ToolContext,
  attrs: { verb: string; resource: string; group?: string; subresource?: string; namespace?: string; name?: string },
): Promise<{ allowed: boolean; reason: string }> {
  const review = await ctx.clients().rest.json<AccessReview>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { group: attrs.group ?? '', ...attrs } },
    },
    signal: ctx.signal,
  });
  return { allowed: Boolean(review.status?.allowed), reason: review.status?.reason ?? '' };
}

/** Dry run for websocket subresources, which the apiserver cannot dry-run: ask whether the call would be allowed. */
export async function dryRunSubresource(ctx: ToolContext, subresource: string, namespace: string, name: string, what: string): Promise<string> {
  const { allowed, reason } = await selfAccessReview(ctx, { verb: 'create', resource: 'pods', subresource, namespace, name });
  if (!allowed) throw new ToolRefusal(`Forbidden: you may not create pods/${subresource} for pod ${namespace}/${name}${reason ? ` (${reason})` : ''}`);
  return `access check (dryRun): you may ${what} pod ${namespace}/${name}; nothing was run, and the command itself was not checked`;
}
