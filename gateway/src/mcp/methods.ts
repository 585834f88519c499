import { JsonRpcCode, McpRequestError } from './errors.js';
import type { JsonRpcMessage } from './parse.js';

/**
 * How the gateway decides on each client-to-server method before anything reaches a worker. A method not in this
 * table is never forwarded: the gateway cannot say what it would do on the worker.
 * - `protocol`: lifecycle and transport; reads nothing from a cluster.
 * - `catalog`: tools/list, answered with the tools this caller may call (policy.ts filters it).
 * - `tool`: tools/call, admitted by policy.ts per tool (scopes, read-only org, allow and deny lists).
 * - `prompt`: the worker's workflow prompts; text rendered from the arguments, nothing read from a cluster, so any
 *   authenticated user of the org may list and get them (the tools a prompt names are decided when called).
 */
export type MethodRule = 'protocol' | 'catalog' | 'tool' | 'prompt';

export const METHOD_RULES: Readonly<Record<string, MethodRule>> = {
  initialize: 'protocol',
  ping: 'protocol',
  'server/discover': 'protocol',
  'subscriptions/listen': 'protocol',
  'notifications/initialized': 'protocol',
  'notifications/cancelled': 'protocol',
  'notifications/progress': 'protocol',
  'notifications/roots/list_changed': 'protocol',
  'tools/list': 'catalog',
  'tools/call': 'tool',
  'prompts/list': 'prompt',
  'prompts/get': 'prompt',
};

/**
 * The rule for a request or notification; throws for a method the gateway does not decide on (-32601, HTTP 200 for
 * a request the client awaits, 400 for a notification or inside a batch) and for a prompts/get whose name it cannot
 * read (-32602, as for tools/call). Posted responses (no method) carry nothing to decide.
 */
export function methodRule(m: JsonRpcMessage, batch: boolean): MethodRule | undefined {
  if (m.method === undefined) return undefined;
  const rule = Object.hasOwn(METHOD_RULES, m.method) ? METHOD_RULES[m.method] : undefined;
  if (!rule) {
    const id = typeof m.id === 'string' || typeof m.id === 'number' ? m.id : undefined;
    const message = `Method not found: ${m.method.slice(0, 60)} is not served through this gateway`;
    throw new McpRequestError(id !== undefined && !batch ? 200 : 400, JsonRpcCode.MethodNotFound, message, {}, 'rejected', id ?? null);
  }
  if (m.method === 'prompts/get' && (typeof m.params?.name !== 'string' || !m.params.name)) {
    throw new McpRequestError(400, JsonRpcCode.InvalidParams, 'Invalid params: prompts/get needs params.name');
  }
  return rule;
}
