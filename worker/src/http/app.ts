import http from 'node:http';
import { hostHeaderValidation, originValidation, toWebRequest } from '@modelcontextprotocol/node';
import { createMcpHandler, type McpHttpHandler } from '@modelcontextprotocol/server';
import type { Logger } from '@kmg/shared/logger';
import type { Ops } from '@kmg/shared/ops';
import { createMcpServer, type RequestState, type ServerDeps } from '../server.js';
import { AuthFailure, type Authenticator } from './auth.js';
import { ClusterPinError } from './cluster-pin.js';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

export interface HttpDeps extends ServerDeps {
  authenticator: Authenticator;
  /** /healthz, /readyz, /metrics, request tracing and in-flight tracking for graceful shutdown. */
  ops?: Ops;
}

/** Like the gateway's default mcp.maxBodyBytes: a request past it is refused with 413. */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function unauthorized(res: http.ServerResponse, failure: AuthFailure): void {
  sendJson(res, 401, { error: failure.code, error_description: failure.description }, { 'www-authenticate': failure.challenge });
}

/**
 * The worker's HTTP face: /healthz, /readyz, and /mcp served by the v2 SDK's createMcpHandler
 * (2026-07-28 requests and 2025-era requests statelessly, one server per request), behind
 * Host/Origin validation and per-request authentication.
 */
export function createWorkerHttpServer(deps: HttpDeps, logger: Logger): { server: http.Server; handler: McpHttpHandler } {
  const handler = createMcpHandler(
    (ctx) => {
      const state = ctx.authInfo?.extra?.state as RequestState | undefined;
      if (!state) throw new Error('MCP request reached the server without an authenticated identity');
      return createMcpServer(deps, state);
    },
    { responseMode: 'json', onerror: (err) => logger.debug({ err: err.message }, 'mcp request rejected') },
  );
  const allowedHosts = [...LOOPBACK_NAMES, ...deps.config.allowedHosts];
  const validateHost = hostHeaderValidation(allowedHosts);
  const validateOrigin = originValidation([...LOOPBACK_NAMES, ...deps.config.allowedOrigins]);

  const opsMiddleware = deps.ops?.middleware();
  const admit = fairAdmission();
  const server = http.createServer((req, res) => {
    // The ops middleware runs at once (in-flight tracking covers queued requests too); the handler waits its turn.
    if (opsMiddleware) opsMiddleware(req, res, () => admit(() => route(req, res)));
    else admit(() => route(req, res));
  });
  // Idle keep-alive sockets stay open well past the gateway's own idle limit (30 s), so the gateway is the side
  // that closes them: a worker closing one just as the gateway reuses it would reset a call that may look run.
  server.keepAliveTimeout = 65_000;

  function route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://worker.invalid');
    if (url.pathname === '/healthz' || url.pathname === '/readyz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method not allowed' });
      return sendJson(res, 200, { status: 'ok' });
    }
    if (url.pathname !== '/mcp') return sendJson(res, 404, { error: 'not found' });
    if (!validateHost(req, res) || !validateOrigin(req, res)) return;
    void serveMcp(req, res).catch((err: unknown) => {
      logger.error({ err }, 'mcp request failed');
      if (!res.headersSent) sendJson(res, 500, { jsonrpc: '2.0', error: { code: -32603, message: 'internal error' }, id: null });
      else res.destroy();
    });
  }

  async function serveMcp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let state: RequestState;
    try {
      const { identity, cluster } = await deps.authenticator.authenticate(req);
      state = { identity, ...(cluster ? { cluster } : {}) };
    } catch (err) {
      if (err instanceof AuthFailure) return unauthorized(res, err);
      if (err instanceof ClusterPinError) return sendJson(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32600, message: err.message } });
      throw err;
    }
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableEnded) abort.abort();
    });
    let request: Request;
    try {
      request = await toWebRequest(req, undefined, { signal: abort.signal, maxRequestBodySize: MAX_REQUEST_BYTES });
    } catch (err) {
      // A normal answer, not a worker failure: a 10 MB manifest was an "internal error" before.
      if ((err as { name?: string }).name !== 'RequestBodyTooLargeError') throw err;
      return sendJson(res, 413, { jsonrpc: '2.0', id: null, error: { code: -32600, message: `request body over ${MAX_REQUEST_BYTES / 1024 / 1024} MiB: split a large manifest into several calls` } }, { connection: 'close' });
    }
    const response = await handler.fetch(request, { authInfo: { token: '', clientId: 'kmg-caller', scopes: [], extra: { state } } });
    // Buffered on purpose: tool output is bounded by the byte budget, and an apiserver 401 found
    // during the call must become an HTTP 401 (so the gateway refreshes), not a 200 with an error inside.
    const body = Buffer.from(await response.arrayBuffer());
    if (state.unauthorizedCluster) {
      return unauthorized(res, new AuthFailure('invalid_token', `cluster ${state.unauthorizedCluster} rejected the token (expired or revoked)`));
    }
    const headers: Record<string, string> = {};
    response.headers.forEach((v, k) => {
      if (k !== 'content-length' && k !== 'transfer-encoding') headers[k] = v;
    });
    headers['content-length'] = String(body.length);
    res.writeHead(response.status, headers);
    res.end(body);
  }

  return { server, handler };
}

/**
 * Starts queued request handlers in arrival order, one per event-loop turn. libuv accepts one new connection
 * per loop turn, so a worker that handled every ready keep-alive request in the same turn (each one building an
 * MCP server: milliseconds of CPU) let new connections wait one busy turn each: a burst of new clients (a gateway
 * opening connections) came back one after another, hundreds of ms apart. One handler per turn keeps accepting
 * in step with serving.
 */
export function fairAdmission(): (start: () => void) => void {
  const queue: Array<() => void> = [];
  let scheduled = false;
  const next = (): void => {
    const start = queue.shift();
    if (queue.length) setImmediate(next);
    else scheduled = false;
    start?.();
  };
  return (start) => {
    queue.push(start);
    if (!scheduled) {
      scheduled = true;
      setImmediate(next);
    }
  };
}
