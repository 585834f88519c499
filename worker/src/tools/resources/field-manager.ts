import type { KubeRest } from '../../k8s/rest.js';
import type { ToolContext } from '../define.js';

/** The field manager of writes nobody can attribute (kept for callers that do not resolve a user). */
export const SHARED_FIELD_MANAGER = 'kube-mcp-worker';
const PREFIX = 'kube-mcp/';

/** One lookup per cached client (a client lives for one identity on one cluster, briefly). */
const byClient = new WeakMap<KubeRest, Promise<string>>();

interface SelfSubjectReview {
  status?: { userInfo?: { username?: string } };
}

/**
 * Each user writes as their own field manager ("kube-mcp/oidc:alice"), so server-side apply
 * tracks who set which field, and one user's apply never silently takes over another's fields
 * as the same manager. Bearer and kubeconfig identities are resolved with a SelfSubjectReview.
 */
export async function fieldManagerFor(ctx: ToolContext): Promise<string> {
  const id = ctx.identity;
  if (id.kind === 'impersonation') return clamp(PREFIX + id.user);
  const rest = ctx.clients().rest;
  let p = byClient.get(rest);
  if (!p) {
    p = rest
      .json<SelfSubjectReview>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
        signal: ctx.signal,
      })
      .then((r) => (r.status?.userInfo?.username ? clamp(PREFIX + r.status.userInfo.username) : SHARED_FIELD_MANAGER))
      .catch(() => SHARED_FIELD_MANAGER);
    byClient.set(rest, p);
  }
  return p;
}

/** The apiserver takes field managers of at most 128 printable characters. */
function clamp(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '_').slice(0, 128);
}
