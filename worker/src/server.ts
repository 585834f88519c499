import { ProtocolError, ProtocolErrorCode, Server, type CallToolResult, type Tool } from '@modelcontextprotocol/server';
import type { Logger } from '@kmg/shared/logger';
import { startToolCall, type OpsMetrics } from '@kmg/shared/ops';
import { z } from 'zod';
import type { ClusterConfig, WorkerConfig } from './config.js';
import type { Identity } from './identity/types.js';
import type { ClientFactory } from './k8s/clients.js';
import type { DiscoveryCache } from './k8s/discovery.js';
import { KubeApiError, KubeUnauthorizedError, toolErrorText, ToolRefusal } from './k8s/errors.js';
import { applyByteBudget } from './output/budget.js';
import { toYaml } from './output/format.js';
import { maskSecrets } from './output/mask.js';
import { ALL_PROMPTS, getPrompt, promptDefinition } from './prompts/index.js';
import { renderListPage } from './output/page.js';
import type { AnyTool } from './tools/index.js';
import type { ToolContext, ToolOutput } from './tools/define.js';
import { assertKindAllowed, destructionRefusal, toolAllowed, toolRefusal } from './tools/policy.js';

export const SERVER_NAME = 'kube-mcp-worker';
export const SERVER_VERSION = '0.1.0';

/** Everything one MCP server instance needs; shared, stateless across requests. */
export interface ServerDeps {
  config: WorkerConfig;
  registry: ReadonlyMap<string, AnyTool>;
  factory: ClientFactory;
  discovery: DiscoveryCache;
  logger: Logger;
  /** Prometheus series (tool calls by tool and outcome); absent in stdio mode and some tests. */
  metrics?: OpsMetrics;
}

/** Per-request state the HTTP edge reads back after the MCP exchange. */
export interface RequestState {
  identity: Identity;
  /**
   * The cluster this request runs on, decided at the HTTP edge (the gateway's x-kmg-cluster header, the assertion's
   * cluster claim, or a one-cluster worker's only cluster). Absent only in local use (stdio, kubeconfig).
   */
  cluster?: string;
  /** Set when the apiserver answered 401: the edge replies HTTP 401 instead of the tool result. */
  unauthorizedCluster?: string;
}

/**
 * Caching hints for the list results (2026-07-28 `ttlMs`/`cacheScope`, SEP-2549; the SDK leaves them off 2025-era
 * answers). tools/list depends on the cluster's policy and the gateway filters it per user: private. The prompts are
 * the same text for everyone: public. Both change only when the worker is redeployed.
 */
export const CACHE_HINTS = {
  'tools/list': { ttlMs: 300_000, cacheScope: 'private' },
  'prompts/list': { ttlMs: 3_600_000, cacheScope: 'public' },
} as const;

const INSTRUCTIONS =
  'Kubernetes tools acting as the calling user: the cluster RBAC decides what you may do. Lists are paged (limit, continue) and default to kubectl-like summaries; use format "normal" for YAML. Secret values are always masked. Every write tool takes dryRun.';

/**
 * Tools visible to a caller: those allowed on the request's cluster when it is pinned, else on at least one
 * cluster (each call is re-checked for its cluster).
 */
export function visibleTools(deps: Pick<ServerDeps, 'config' | 'registry'>, pinned?: string): AnyTool[] {
  const clusters = deps.config.clusters.filter((c) => pinned === undefined || c.name === pinned);
  return [...deps.registry.values()].filter((t) => clusters.some((c) => toolAllowed(t, c.policy)));
}

export function toolDefinition(tool: AnyTool): Tool {
  const def: Tool = {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: z.toJSONSchema(tool.input, { io: 'input' }) as Tool['inputSchema'],
    annotations: { title: tool.title, ...tool.annotations },
  };
  if (tool.output) def.outputSchema = z.toJSONSchema(tool.output, { io: 'output' }) as Tool['outputSchema'];
  return def;
}

/** "limit: Too big: expected number to be <=1000 (Maximum items to return ...)": the field, what is wrong, what it takes. */
export function describeIssues(tool: AnyTool, error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const field = i.path.length ? i.path.join('.') : '(arguments)';
      const top = typeof i.path[0] === 'string' ? (tool.input.shape as Record<string, z.ZodType>)[i.path[0]] : undefined;
      const about = top?.description ? ` (${field.split('.')[0]}: ${top.description})` : '';
      const missing = i.code === 'invalid_type' && i.message.endsWith('received undefined');
      return `${field}: ${missing ? 'required' : i.message}${about}`;
    })
    .join('; ');
}

/** SEP-1303: bad arguments are a tool execution error the model can read and correct, not a JSON-RPC error. */
export function invalidArgumentsResult(tool: AnyTool, error: z.ZodError): CallToolResult {
  const text = `Invalid arguments for ${tool.name}: ${describeIssues(tool, error)}. Fix the named argument(s) and call ${tool.name} again.`;
  return { content: [{ type: 'text', text }], isError: true };
}

/**
 * One low-level MCP Server per request (or per stdio connection). Unknown tools are JSON-RPC
 * invalid-params errors; invalid arguments are isError results naming the field and the fix
 * (MCP 2025-11-25, SEP-1303), so the model can correct the call.
 */
export function createMcpServer(deps: ServerDeps, state: RequestState): Server {
  const server = new Server(
    { name: SERVER_NAME, version: SERVER_VERSION },
    { capabilities: { tools: { listChanged: false }, prompts: { listChanged: false } }, instructions: INSTRUCTIONS, cacheHints: CACHE_HINTS },
  );
  const tools = visibleTools(deps, state.cluster);
  const definitions = tools.map(toolDefinition);
  const byName = new Map(tools.map((t, i) => [t.name, { tool: t, def: definitions[i]! }]));
  const offered = new Set(byName.keys());

  server.setRequestHandler('tools/list', () => ({ tools: definitions }));
  server.setRequestHandler('prompts/list', () => ({ prompts: ALL_PROMPTS.map(promptDefinition) }));
  server.setRequestHandler('prompts/get', (request) => getPrompt(request.params.name, request.params.arguments, offered));
  server.setRequestHandler('tools/call', async (request, ctx) => {
    const entry = byName.get(request.params.name);
    if (!entry) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    const parsed = entry.tool.input.safeParse(request.params.arguments ?? {});
    if (!parsed.success) return invalidArgumentsResult(entry.tool, parsed.error);
    // The cluster as sent, also for tools whose schema has no cluster argument (zod strips it from parsed.data).
    const askedCluster = (request.params.arguments as Record<string, unknown> | undefined)?.cluster;
    const result = await callTool(deps, state, entry.tool, parsed.data as Record<string, unknown>, ctx.mcpReq.signal, askedCluster);
    return server.projectCallToolResult(result, entry.def.outputSchema as Record<string, unknown> | undefined);
  });
  return server;
}

/** The pinned cluster (see RequestState.cluster) wins; arguments.cluster naming any other one is refused, not ignored. */
function resolveCluster(config: WorkerConfig, name: unknown, pinned: string | undefined): ClusterConfig {
  const asked = typeof name === 'string' && name ? name : undefined;
  if (pinned !== undefined && name !== undefined && name !== '' && name !== pinned) {
    throw new ToolRefusal(`this request is for cluster ${pinned}, but arguments.cluster names ${JSON.stringify(name)}: nothing was run; use the gateway endpoint of that cluster instead`);
  }
  const wanted = pinned ?? asked ?? config.defaultCluster ?? config.clusters[0]!.name;
  const cluster = config.clusters.find((c) => c.name === wanted);
  if (!cluster) throw new ToolRefusal(`unknown cluster ${wanted}; clusters are: ${config.clusters.map((c) => c.name).join(', ')}`);
  return cluster;
}

export async function callTool(
  deps: ServerDeps,
  state: RequestState,
  tool: AnyTool,
  args: Record<string, unknown>,
  signal: AbortSignal,
  askedCluster: unknown = args.cluster,
): Promise<CallToolResult> {
  const started = Date.now();
  const endMetric = deps.metrics ? startToolCall(deps.metrics, tool.name) : undefined;
  let cluster: ClusterConfig | undefined;
  try {
    cluster = resolveCluster(deps.config, askedCluster, state.cluster);
    const refusal = toolRefusal(tool, cluster.policy, cluster.name);
    if (refusal) throw new ToolRefusal(refusal);
    const kinds = tool.kinds?.(args) ?? [];
    if (kinds.length) assertKindAllowed(kinds, [], cluster.policy, cluster.name);
    const c = cluster;
    const ctx: ToolContext = {
      cluster: c,
      identity: state.identity,
      config: deps.config,
      factory: deps.factory,
      discovery: deps.discovery,
      policy: c.policy,
      signal,
      clients: () => deps.factory.forIdentity(c.name, state.identity),
    };
    const destroys = await destructionRefusal(tool, args, ctx);
    if (destroys) throw new ToolRefusal(destroys);
    const out = await tool.run(args, ctx);
    deps.logger.debug({ tool: tool.name, cluster: c.name, ms: Date.now() - started }, 'tool call');
    endMetric?.(out.isError ? 'error' : 'ok');
    return render(out, deps.config.byteBudget);
  } catch (err) {
    // Refused by policy or by the cluster's RBAC (403) = denied; anything else = error.
    endMetric?.(err instanceof ToolRefusal || (err instanceof KubeApiError && err.status === 403) ? 'denied' : 'error');
    if (err instanceof KubeUnauthorizedError) state.unauthorizedCluster = err.cluster;
    const text = toolErrorText(err);
    const level = err instanceof ToolRefusal || (err as { name?: string }).name?.startsWith('Kube') || (err as { name?: string }).name === 'ClusterUnreachableError' ? 'info' : 'error';
    deps.logger[level]({ tool: tool.name, cluster: cluster?.name, err: level === 'error' ? err : undefined, outcome: text }, 'tool call failed');
    return { content: [{ type: 'text', text }], isError: true };
  }
}

function dropTypeMeta(item: unknown): unknown {
  if (typeof item !== 'object' || item === null) return item;
  const { apiVersion: _v, kind: _k, ...rest } = item as Record<string, unknown>;
  return rest;
}

/** The single exit for tool output: Secret masking, YAML rendering and the byte budget happen here and only here. */
export function render(out: ToolOutput, budget: number): CallToolResult {
  if (out.list) {
    const items = Array.isArray(out.data) ? (out.data as unknown[]) : undefined;
    const page = renderListPage({ list: out.list, items, reveal: out.reveal, dropTypeMeta: Boolean(out.listItemsOf) }, budget, out.truncationHint ?? '');
    return out.isError ? { ...page, isError: true } : page;
  }
  const parts: string[] = [];
  if (out.text) parts.push(out.text);
  if (out.data !== undefined) {
    let masked = maskSecrets(out.data, out.reveal);
    if (out.listItemsOf && Array.isArray(masked)) masked = masked.map(dropTypeMeta);
    parts.push(toYaml(masked));
  }
  const { text } = applyByteBudget(parts.join(out.text && !out.text.endsWith('\n') ? '\n' : ''), budget, out.truncationHint ?? 'Narrow the request to see the rest.');
  const result: CallToolResult = { content: [{ type: 'text', text }] };
  if (out.structured) result.structuredContent = maskSecrets(out.structured);
  if (out.isError) result.isError = true;
  return result;
}
