import type { IncomingHttpHeaders } from 'node:http';
import { decideTool, filterTools, type ToolInfo } from '../policy/tools.js';
import { fetchCatalog } from './catalog-fetch.js';
import type { CredentialContext } from './context.js';
import { JsonRpcCode, McpRequestError, ScopeRefusal, type JsonRpcId } from './errors.js';
import type { JsonRpcMessage } from './parse.js';
import type { McpRuntime } from './runtime.js';

/**
 * Admits each tool call of the body (scopes, read-only org, allow and deny lists) on the tool's annotations as the
 * cluster's workers describe them. A missing scope is 403 insufficient_scope; a tool the org does not offer is a
 * JSON-RPC error for that call.
 */
export async function policyStep(rt: McpRuntime, ctx: CredentialContext, clientHeaders: IncomingHttpHeaders): Promise<void> {
  const key = `${ctx.org.name}/${ctx.cluster.name}`;
  for (const call of ctx.parsed?.calls ?? []) {
    let info = rt.catalog.lookup(key, call.name);
    if (!info) {
      await fetchCatalog(rt, ctx, clientHeaders).catch((err: unknown) => rt.logger.warn({ err, requestId: ctx.requestId }, 'tool catalog fetch failed'));
      info = rt.catalog.lookup(key, call.name);
    }
    const d = decideTool(call.name, info, ctx.principal, ctx.org.policy);
    if (d.allowed) continue;
    if (d.reason === 'insufficient_scope') throw new ScopeRefusal(d.scope, d.message);
    throw new McpRequestError(200, JsonRpcCode.InvalidParams, d.message, {}, 'denied', call.id);
  }
}

/**
 * For a body with tools/list requests: learns the tools the worker lists and filters them for this caller, so
 * tools/list and tools/call never disagree. Undefined when the body lists nothing.
 */
export function toolListFilter(rt: McpRuntime, ctx: CredentialContext): ((m: JsonRpcMessage) => JsonRpcMessage) | undefined {
  const ids = new Set<JsonRpcId>((ctx.parsed?.messages ?? []).filter((m) => m.method === 'tools/list').map((m) => m.id ?? null));
  if (!ids.size) return undefined;
  const key = `${ctx.org.name}/${ctx.cluster.name}`;
  return (m) => {
    if (!ids.has(m.id ?? null) || !Array.isArray(m.result?.tools)) return m;
    const tools = m.result.tools as ToolInfo[];
    rt.catalog.learn(key, tools);
    return { ...m, result: { ...m.result, tools: filterTools(tools, ctx.principal, ctx.org.policy) } };
  };
}
