import { Agent, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import { createProxyMiddleware, responseInterceptor, type RequestHandler } from 'http-proxy-middleware';
import type { Logger } from '@kmg/shared/logger';
import type { WorkerPool } from '../workers/pool.js';
import { tapResponse, type TapResult } from './stream-tap.js';

/** Per-request forwarding state, set by the router before the proxy runs. */
export interface ForwardState {
  pool: WorkerPool;
  /** The exchanged bearer or the signed identity assertion: the only credential the worker sees. */
  credential: string;
  requestId: string;
  /** The cluster the gateway decided for (x-kmg-cluster): the worker refuses a call for any other. */
  cluster: string;
  traceparent: string;
  body: Buffer | undefined;
  /** A tools/call in the body: never retried once a connection to a worker was made. */
  mayHaveRun: boolean;
  target?: string;
  tried: Set<string>;
  keepAliveMs: number;
  /** Extra response headers (the gateway's Mcp-Session-Id on initialize). */
  responseHeaders?: Record<string, string>;
  /** Called with the worker's status when its response starts. */
  onResponse?: (status: number) => void;
  /** Rewrites a buffered response body (tools/list filtering). Only set for small, non-tool-output responses. */
  rewrite?: (body: string, contentType: string | undefined) => string;
  tap?: TapResult;
  /** Set when no worker could be reached. */
  unreachable?: boolean;
  /**
   * For a tools/call whose client accepts SSE: when the worker is still silent after keepAliveMs, the gateway
   * answers 200 text/event-stream itself, sends keep-alive comments, and delivers the worker's JSON answer as
   * the stream's one event. Workers that buffer their answer (JSON response mode) then cannot be idle-cut either.
   */
  upgradeToSse?: boolean;
  /** The gateway has committed the client response to SSE (headers sent). */
  upgraded?: boolean;
  jsonRpcId?: string | number | null;
  closeWatched?: boolean;
  activeProxyReq?: ClientRequest;
  proxyRes?: IncomingMessage;
}

type Req = Request & { kmg?: ForwardState };

/**
 * The only client request headers a worker sees (an allow-list: Impersonate-*, X-Remote-*, cookies, the client's
 * token, Content-Encoding of a body the gateway already decoded, client-sent x-kmg-* never pass). The gateway sets
 * authorization, x-request-id, traceparent, x-kmg-cluster, content-type and content-length itself.
 */
export const FROM_CLIENT: ReadonlySet<string> = new Set(['accept', 'mcp-protocol-version', 'mcp-method', 'mcp-name', 'last-event-id']);

/** Connect failures: nothing reached the worker, so any request (even a tools/call) may go to another. */
const NOTHING_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

function state(req: IncomingMessage): ForwardState {
  const s = (req as Req).kmg;
  if (!s) throw new Error('forward state missing');
  return s;
}

/**
 * The two http-proxy-middleware instances the MCP path uses: `stream` pipes responses unbuffered
 * (tool calls, SSE), `rewrite` buffers small responses the gateway must edit (tools/list).
 */
type Handler = RequestHandler<Request, Response>;

export function createForwarders(logger: Logger): { stream: Handler; rewrite: Handler; upgrade: Handler } {
  const hpmLogger = { info: () => undefined, warn: (m: unknown) => logger.warn({ hpm: m }), error: (m: unknown) => logger.error({ hpm: m }) };

  const onProxyReq = (proxyReq: ClientRequest, req: IncomingMessage, res: ServerResponse) => {
    const s = state(req);
    for (const h of proxyReq.getHeaderNames()) if (!FROM_CLIENT.has(h) && h !== 'host') proxyReq.removeHeader(h);
    if (s.credential) proxyReq.setHeader('authorization', `Bearer ${s.credential}`);
    proxyReq.setHeader('x-request-id', s.requestId);
    proxyReq.setHeader('traceparent', s.traceparent);
    proxyReq.setHeader('x-kmg-cluster', s.cluster);
    if (s.body) {
      proxyReq.setHeader('content-type', 'application/json');
      proxyReq.setHeader('content-length', s.body.length);
      proxyReq.write(s.body);
    } else {
      proxyReq.setHeader('content-length', 0);
    }
    // A client that goes away aborts the worker's request (and with it the apiserver call). One listener per
    // response for both directions: proxyRes is set once the worker answers.
    if (!s.closeWatched) {
      s.closeWatched = true;
      res.once('close', () => {
        if (res.writableFinished) return;
        s.activeProxyReq?.destroy();
        s.proxyRes?.destroy();
      });
    }
    s.activeProxyReq = proxyReq;
    if (s.upgradeToSse && !s.upgraded) startUpgradeTimer(s, proxyReq, res);
  };

  const startUpgradeTimer = (s: ForwardState, proxyReq: ClientRequest, res: ServerResponse) => {
    let interval: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      if (res.headersSent || res.destroyed) return;
      s.upgraded = true;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no', ...(s.responseHeaders ?? {}) });
      res.write(': keep-alive\n\n');
      interval = setInterval(() => !res.writableEnded && res.write(': keep-alive\n\n'), s.keepAliveMs);
      interval.unref();
    }, s.keepAliveMs);
    timer.unref();
    const stop = () => (clearTimeout(timer), clearInterval(interval));
    proxyReq.once('response', (r: IncomingMessage) => {
      clearTimeout(timer);
      r.once('end', stop);
      r.once('close', stop);
    });
    proxyReq.once('close', () => (!s.upgraded || res.writableEnded || res.destroyed) && stop());
    proxyReq.once('error', stop);
  };

  const onResponseStart = (proxyRes: IncomingMessage, req: IncomingMessage) => {
    const s = state(req);
    s.proxyRes = proxyRes;
    delete proxyRes.headers['mcp-session-id'];
    for (const [k, v] of Object.entries(s.responseHeaders ?? {})) proxyRes.headers[k.toLowerCase()] = v;
    s.onResponse?.(proxyRes.statusCode ?? 502);
  };

  const onError = (proxy: () => Handler) => (err: Error, req: IncomingMessage, res: ServerResponse | import('node:net').Socket) => {
    const s = state(req);
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (s.target) s.tried.add(s.target);
    const response = res as ServerResponse;
    if (s.upgraded && !response.writableEnded) {
      s.onResponse?.(502);
      s.unreachable = true;
      response.end(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: s.jsonRpcId ?? null, error: { code: -32603, message: 'the worker failed while running the call' } })}\n\n`);
      return;
    }
    if (response.headersSent || response.destroyed) return;
    const connectFailure = NOTHING_SENT.has(code);
    if (connectFailure && s.target) s.pool.markDown(s.target);
    // Retry only when nothing reached the worker; a tools/call that may have run is never repeated.
    const retriable = connectFailure || (!s.mayHaveRun && code === 'ECONNRESET');
    const next = retriable ? s.pool.pick(s.tried) : undefined;
    if (next) {
      logger.warn({ worker: s.target, code, requestId: s.requestId, next }, 'worker unreachable; retrying on another worker');
      s.target = next;
      void proxy()(req as Request, response as Response, () => undefined);
      return;
    }
    logger.error({ worker: s.target, code, requestId: s.requestId }, 'forwarding to worker failed');
    s.unreachable = true;
    s.onResponse?.(502);
    response.statusCode = 502;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'no worker for this cluster could be reached' } }));
  };

  // Keep-alive connections to workers (http-proxy opens a new one per request without an agent).
  const agent = new Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64, keepAliveMsecs: 15_000 });
  const common = {
    agent,
    changeOrigin: true,
    xfwd: false,
    logger: hpmLogger,
    router: (req: Req) => state(req).target!,
    pathRewrite: (_path: string, req: Req) => state(req).pool.mcpPath(state(req).target!),
  };

  const stream: Handler = createProxyMiddleware<Request, Response>({
    ...common,
    on: {
      proxyReq: onProxyReq,
      proxyRes: (proxyRes, req, res) => {
        onResponseStart(proxyRes, req);
        const s = state(req);
        s.tap = tapResponse(proxyRes, res, s.keepAliveMs);
        // Send the worker's headers at once: an SSE client waiting on a slow first event must see the stream open.
        if (String(proxyRes.headers['content-type'] ?? '').includes('text/event-stream')) setImmediate(() => !res.headersSent && res.flushHeaders());
      },
      error: onError(() => stream),
    },
  });

  const rewrite: Handler = createProxyMiddleware<Request, Response>({
    ...common,
    selfHandleResponse: true,
    on: {
      proxyReq: onProxyReq,
      proxyRes: (proxyRes, req, res) => {
        onResponseStart(proxyRes, req);
        const s = state(req);
        const ct = proxyRes.headers['content-type'];
        const ok = (proxyRes.statusCode ?? 500) < 300;
        void responseInterceptor(async (buf) => (ok && s.rewrite ? s.rewrite(buf.toString('utf8'), ct) : buf))(proxyRes, req as Request, res as Response);
      },
      error: onError(() => rewrite),
    },
  });

  /** Like `stream`, but able to answer as SSE when the worker stays quiet (see ForwardState.upgradeToSse). */
  const upgrade: Handler = createProxyMiddleware<Request, Response>({
    ...common,
    selfHandleResponse: true,
    on: {
      proxyReq: onProxyReq,
      proxyRes: (proxyRes, req, res) => {
        onResponseStart(proxyRes, req);
        const s = state(req);
        s.tap = tapResponse(proxyRes, res, s.keepAliveMs);
        const ct = String(proxyRes.headers['content-type'] ?? '');
        if (!s.upgraded) {
          const headers = { ...proxyRes.headers };
          for (const h of ['connection', 'keep-alive', 'transfer-encoding']) delete headers[h];
          res.writeHead(proxyRes.statusCode ?? 502, headers);
          proxyRes.pipe(res);
          return;
        }
        if (ct.includes('text/event-stream')) return void proxyRes.pipe(res);
        // A JSON answer (or an HTTP error) after the stream was opened: deliver it as the stream's event.
        const chunks: Buffer[] = [];
        proxyRes.on('data', (c: Buffer) => chunks.push(c));
        proxyRes.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const ok = (proxyRes.statusCode ?? 500) < 300 && ct.includes('application/json');
          const message = ok ? text : JSON.stringify({ jsonrpc: '2.0', id: s.jsonRpcId ?? null, error: { code: -32603, message: `worker answered HTTP ${proxyRes.statusCode}` } });
          res.end(`event: message\ndata: ${message.replace(/\n/g, '')}\n\n`);
        });
      },
      error: onError(() => upgrade),
    },
  });

  return { stream, rewrite, upgrade };
}
