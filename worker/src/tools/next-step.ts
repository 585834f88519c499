import { KubeApiError } from '../k8s/errors.js';
import type { ToolContext } from './define.js';
import { selfAccessReview } from './pods/access-check.js';

const NOT_FOUND = /^(\S+) "([^"]+)" not found$/;
const CLUSTER_FORBIDDEN = /cannot (\w+) resource "([^"]+)" in API group "([^"]*)" at the cluster scope/;
const NAMESPACE_CHECK_CAP = 100;

interface Args {
  namespace?: unknown;
  kind?: unknown;
}

/** Where the call looked, in words. */
function searched(ctx: ToolContext, a: Args): string {
  return `${typeof a.namespace === 'string' && a.namespace ? `namespace ${a.namespace}` : 'namespace default (namespace was not given)'} of cluster ${ctx.cluster.name}`;
}

/** Namespaces where the caller may `verb` the resource, by asking the apiserver per namespace it can see. */
async function readableNamespaces(ctx: ToolContext, verb: string, resource: string, group: string): Promise<string> {
  let names: string[];
  try {
    const list = await ctx.clients().rest.get<{ items?: Array<{ metadata?: { name?: string } }> }>('/api/v1/namespaces', { query: { limit: 500 }, signal: ctx.signal });
    names = (list.items ?? []).map((n) => n.metadata?.name ?? '').filter(Boolean);
  } catch {
    return ` You may not list namespaces either, so pass the namespace you work in as namespace=<name>.`;
  }
  const checked = names.slice(0, NAMESPACE_CHECK_CAP);
  const allowed: string[] = [];
  await Promise.all(
    checked.map(async (ns) => {
      const r = await selfAccessReview(ctx, { verb, resource, group, namespace: ns }).catch(() => ({ allowed: false }));
      if (r.allowed) allowed.push(ns);
    }),
  );
  allowed.sort();
  const of = names.length > checked.length ? ` (checked the first ${checked.length} of ${names.length} namespaces)` : '';
  return allowed.length
    ? ` You may ${verb} ${resource} in: ${allowed.join(', ')}${of}. Pass one as namespace=<name>.`
    : ` You may not ${verb} ${resource} in any namespace you can see${of}; ask for access (can_i checks one).`;
}

/**
 * Adds what to do next to a 404 (where it looked, how to find it) or, for a tool that takes a namespace, a
 * cluster-scope 403 (where you may look).
 */
export async function withNextStep(err: unknown, ctx: ToolContext, args: Args, takesNamespace = true): Promise<unknown> {
  if (!(err instanceof KubeApiError) || err.status === 401) return err;
  if (err.status === 404) {
    const m = NOT_FOUND.exec(err.message);
    if (!m) return err;
    const [, resource, name] = m;
    const hint = ` (looked in ${searched(ctx, args)}). To find it: resources_list kind=${resource} without namespace searches all namespaces, and fieldSelector=metadata.name=${name} narrows to the name; api_resources_list shows the kinds this cluster serves.`;
    return new KubeApiError(err.cluster, err.status, err.reason, err.message + hint);
  }
  if (err.status === 403 && takesNamespace) {
    const m = CLUSTER_FORBIDDEN.exec(err.message);
    if (!m) return err;
    const [, verb, resource, group] = m;
    return new KubeApiError(err.cluster, err.status, err.reason, err.message.replace(/\.?$/, '.') + (await readableNamespaces(ctx, verb!, resource!, group!)));
  }
  return err;
}
