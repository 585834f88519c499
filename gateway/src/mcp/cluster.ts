import type { ClusterConfig } from '../config/mcp.js';
import type { OrgConfig } from '../config/schema.js';
import type { ClusterContext, ParsedContext } from './context.js';
import { JsonRpcCode, McpRequestError, ToolInputRefusal } from './errors.js';
import type { ParsedRequest } from './parse.js';
import type { McpRuntime } from './runtime.js';

/**
 * The cluster a request acts on. A tools/call may name one in `arguments.cluster`: it must be one of the org's
 * clusters, and on a `/clusters/{name}` URL the one the URL names. Gateway cluster names are the workers' cluster
 * names (both configs name the same clusters), so the worker checks `x-kmg-cluster` against the call and the
 * assertion. A single call naming a cluster the gateway does not serve, or a cluster that is not a string, gets a
 * tool error (bad input, MCP 2025-11-25); a batch whose calls disagree, or name such a cluster, is refused.
 */
export function pinCluster(org: OrgConfig, urlCluster: ClusterConfig, explicit: boolean, parsed: ParsedRequest | null): ClusterConfig {
  const bad = parsed?.calls.find((c) => c.badClusterType !== undefined);
  if (bad) {
    const why = `Invalid arguments for ${bad.name}: cluster: expected a string, got ${bad.badClusterType}. Pass one of this organisation's clusters (${org.clusters.map((c) => c.name).join(', ')}) as a string, or omit cluster to use "${urlCluster.name}", and call ${bad.name} again.`;
    if (parsed!.batch) throw new McpRequestError(400, JsonRpcCode.InvalidParams, why);
    throw new ToolInputRefusal(why, bad.id);
  }
  const named = new Set((parsed?.calls ?? []).map((c) => c.cluster ?? urlCluster.name));
  if (named.size === 0) return urlCluster;
  if (named.size > 1) throw new McpRequestError(400, JsonRpcCode.InvalidParams, 'the tool calls of one request must address one cluster');
  const name = [...named][0]!;
  const cluster = org.clusters.find((c) => c.name === name);
  let why: string | undefined;
  if (!cluster) why = `unknown cluster "${name}"; this organisation's clusters are: ${org.clusters.map((c) => c.name).join(', ')}`;
  else if (explicit && name !== urlCluster.name) why = `this MCP URL serves cluster "${urlCluster.name}"; call cluster "${name}" at its own URL (…/mcp/clusters/${name}) or at the organisation's MCP URL`;
  if (!why) return cluster!;
  if (parsed!.batch) throw new McpRequestError(400, JsonRpcCode.InvalidParams, why);
  throw new ToolInputRefusal(why, parsed!.firstId);
}

export function clusterStep(rt: McpRuntime, ctx: ParsedContext): { cluster: ClusterConfig; pool: ClusterContext['pool'] } {
  const cluster = pinCluster(ctx.org, ctx.urlCluster, ctx.explicitCluster, ctx.parsed);
  return { cluster, pool: rt.pool(ctx.org.name, cluster.name) };
}
