import type { IncomingHttpHeaders } from 'node:http';
import type { ToolInfo } from '../policy/tools.js';
import type { CredentialContext } from './context.js';
import { credentialStep } from './credentials.js';
import { rewriteMessages } from './messages.js';
import type { JsonRpcMessage } from './parse.js';
import type { McpRuntime } from './runtime.js';

/**
 * Asks a worker of the request's cluster for tools/list (with the caller's protocol headers and credential), to
 * learn annotations before admitting a call to a tool the catalog has not seen.
 */
export async function fetchCatalog(rt: McpRuntime, ctx: CredentialContext, clientHeaders: IncomingHttpHeaders): Promise<void> {
  // tools/list changes nothing, so a worker that cannot answer it is routed around and the next one asked.
  const tried = new Set<string>();
  for (let target = ctx.pool.pick(); target; target = ctx.pool.pick(tried)) {
    tried.add(target);
    try {
      return await fetchCatalogFrom(rt, ctx, clientHeaders, target);
    } catch (err) {
      // Anything but the worker failing to answer (a timeout, a failed exchange) says nothing about this worker.
      if (!workerUnreachable(err)) throw err;
      ctx.pool.markDown(target);
      if (tried.size >= ctx.pool.size) throw err;
    }
  }
}

/** How fetch (undici) fails a connection refused or reset ("fetch failed") or a body cut short ("terminated"). */
function workerUnreachable(err: unknown): boolean {
  return err instanceof TypeError && (err.message === 'fetch failed' || err.message === 'terminated');
}

async function fetchCatalogFrom(rt: McpRuntime, ctx: CredentialContext, clientHeaders: IncomingHttpHeaders, target: string): Promise<void> {
  const key = `${ctx.org.name}/${ctx.cluster.name}`;
  const meta = ctx.parsed?.messages.find((m) => m.params?._meta)?.params?._meta;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'x-request-id': ctx.requestId,
    'x-kmg-cluster': ctx.cluster.name,
  };
  const version = clientHeaders['mcp-protocol-version'];
  if (typeof version === 'string') headers['mcp-protocol-version'] = version;
  if (clientHeaders['mcp-method'] !== undefined) headers['mcp-method'] = 'tools/list';
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const body: JsonRpcMessage = { jsonrpc: '2.0', id: `gw-catalog-${page}`, method: 'tools/list', params: { ...(meta ? { _meta: meta } : {}), ...(cursor ? { cursor } : {}) } };
    // Workers accept each identity assertion once: every catalog page signs its own, never the one being forwarded.
    const credential = ctx.cluster.identity === 'impersonation' ? await credentialStep(rt, ctx) : ctx.credential;
    if (credential) headers.authorization = `Bearer ${credential}`;
    const r = await fetch(target + ctx.pool.mcpPath(target), { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    const text = await r.text();
    let next: string | undefined;
    rewriteMessages(text, r.headers.get('content-type') ?? undefined, (m) => {
      if (Array.isArray(m.result?.tools)) rt.catalog.learn(key, m.result.tools as ToolInfo[]);
      if (typeof m.result?.nextCursor === 'string') next = m.result.nextCursor;
      return m;
    });
    if (!next) return;
    cursor = next;
  }
}
