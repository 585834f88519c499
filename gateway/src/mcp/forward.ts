import { Agent, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Request, Response } from 'express';
import { createProxyMiddleware, type RequestHandler } from 'http-proxy-middleware';
import type { Logger } from '@kmg/shared/logger';
import type { McpGlobalConfig } from '../config/mcp.js';
import type { WorkerPool } from '../workers/pool.js';
import { jsonRpcErrorMessage, JsonRpcCode, type JsonRpcId } from './errors.js';
import { messagesIn, rewriteMessages } from './messages.js';
import type { JsonRpcMessage } from './parse.js';
import { keepAliveTap } from './stream-tap.js';

/**
 * stream: the worker's answer is piped through unbuffered (tool calls, SSE); rewrite: a small answer the gateway
 * edits is buffered (tools/list filtering); upgrade: like stream, but when the worker stays silent for keepAliveMs
 * the gateway answers 200 text/event-stream itself, sends keep-alive comments, and delivers the worker's JSON answer
 * as the stream's one event (a worker that buffers its answer then cannot be idle-cut either).
 */
export type ForwardMode = 'stream' | 'rewrite' | 'upgrade';

/** Everything one forwarded request needs, decided by the steps before; read-only. */
export interface ForwardJob {
  readonly mode: ForwardMode;
  readonly pool: WorkerPool;
  readonly target: string;
  /** The exchanged bearer or the signed identity assertion: the only credential the worker sees ('' for none). */
  readonly credential: string;
  readonly requestId: string;
  /** The cluster the gateway decided for (x-kmg-cluster): the worker refuses a call for any other. */
  readonly cluster: string;
  readonly traceparent: string;
  /** The re-serialised parsed body (POST), or undefined. */
  readonly body: Buffer | undefined;
  /** A tools/call in the body: never retried once a connection to a worker was made. */
  readonly mayHaveRun: boolean;
  /** Extra response headers (the gateway's Mcp-Session-Id on initialize). */
  readonly responseHeaders?: Readonly<Record<string, string>>;
  /** For mode rewrite: applied to each JSON-RPC message of a successful answer. */
  readonly rewrite?: (m: JsonRpcMessage) => JsonRpcMessage;
  /** The request's id (for the error event of an upgraded stream). */
  readonly jsonRpcId: JsonRpcId;
  /** Ids of the tools/call messages: a result for one of them with isError true is a tool error. */
  readonly callIds: ReadonlySet<JsonRpcId>;
}

/** What happened, for the audit and the session bookkeeping; read from the parsed answer, never guessed. */
export interface ForwardOutcome {
  /** The worker's HTTP status (502 when none could be reached). */
  readonly status: number;
  /** A tool result for one of the job's calls had isError: true. */
  readonly toolError: boolean;
  readonly unreachable: boolean;
  /** The client went away before the answer was complete. */
  readonly aborted: boolean;
}

export interface Forwarder {
  forward(req: Request, res: Response, job: ForwardJob): Promise<ForwardOutcome>;
}

/**
 * The only client request headers a worker sees (an allow-list: Impersonate-*, X-Remote-*, cookies, the client's
 * token, Content-Encoding of a body the gateway already decoded, client-sent x-kmg-* never pass). The gateway sets
 * authorization, x-request-id, traceparent, x-kmg-cluster, content-type and content-length itself.
 */
export const FROM_CLIENT: ReadonlySet<string> = new Set(['accept', 'mcp-protocol-version', 'mcp-method', 'mcp-name', 'last-event-id']);

/** Response headers never passed back: hop-by-hop, and the worker's session id (sessions are the gateway's). */
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'mcp-session-id', 'content-length']);

/** Connect failures: nothing reached the worker, so any request (even a tools/call) may go to another. */
const NOTHING_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
/** Codes of a connection the worker dropped after the request may have reached it. */
const DROPPED = new Set(['ECONNRESET', 'EPIPE']);

/** Largest answer kept aside to read the tool-error flag from (bigger answers pass unread: no tool error noted). */
const INSPECT_LIMIT = 4 * 1024 * 1024;

/** Per-request forwarding state, private to this module. */
interface Flight {
  readonly job: ForwardJob;
  target: string;
  readonly tried: Set<string>;
  status: number;
  toolError: boolean;
  unreachable: boolean;
  upgraded: boolean;
  closeWatched: boolean;
  activeProxyReq?: ClientRequest;
  proxyRes?: IncomingMessage;
}

export function createForwarder(logger: Logger, mcp: Pick<McpGlobalConfig['mcp'], 'keepAliveMs'>): Forwarder {
  const keepAliveMs = mcp.keepAliveMs;
  const flights = new WeakMap<IncomingMessage, Flight>();
  const flight = (req: IncomingMessage): Flight => {
    const f = flights.get(req);
    if (!f) throw new Error('forward state missing');
    return f;
  };
  // Keep-alive connections to workers (http-proxy opens a new one per request without an agent).
  // timeout closes a socket that sat idle in the pool for 30 s (busy sockets are left alone), before the worker's
  // 65 s keep-alive ends it: otherwise a request written to a socket the worker is closing is reset, and a
  // tools/call reset that way cannot be retried (it may have run) — the chaos soak saw exactly that.
  const agent = new Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64, keepAliveMsecs: 15_000, timeout: 30_000 });

  const onProxyReq = (proxyReq: ClientRequest, req: IncomingMessage, res: ServerResponse): void => {
    const f = flight(req);
    const { job } = f;
    for (const h of proxyReq.getHeaderNames()) if (h !== 'host' && !FROM_CLIENT.has(h)) proxyReq.removeHeader(h);
    if (job.credential) proxyReq.setHeader('authorization', `Bearer ${job.credential}`);
    proxyReq.setHeader('x-request-id', job.requestId);
    proxyReq.setHeader('traceparent', job.traceparent);
    proxyReq.setHeader('x-kmg-cluster', job.cluster);
    if (job.body) {
      proxyReq.setHeader('content-type', 'application/json');
      proxyReq.setHeader('content-length', job.body.length);
      proxyReq.write(job.body);
    } else {
      proxyReq.setHeader('content-length', 0);
    }
    // A client that goes away aborts the worker's request (and with it the apiserver call).
    if (!f.closeWatched) {
      f.closeWatched = true;
      res.once('close', () => {
        if (res.writableFinished) return;
        f.activeProxyReq?.destroy();
        f.proxyRes?.destroy();
      });
    }
    f.activeProxyReq = proxyReq;
    if (job.mode === 'upgrade' && !f.upgraded) startUpgradeTimer(f, proxyReq, res);
  };

  const startUpgradeTimer = (f: Flight, proxyReq: ClientRequest, res: ServerResponse): void => {
    let interval: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      if (res.headersSent || res.destroyed) return;
      f.upgraded = true;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no', ...(f.job.responseHeaders ?? {}) });
      res.write(': keep-alive\n\n');
      interval = setInterval(() => !res.writableEnded && res.write(': keep-alive\n\n'), keepAliveMs);
      interval.unref();
    }, keepAliveMs);
    timer.unref();
    const stop = () => (clearTimeout(timer), clearInterval(interval));
    proxyReq.once('response', (r: IncomingMessage) => {
      clearTimeout(timer);
      r.once('end', stop);
      r.once('close', stop);
    });
    proxyReq.once('close', () => (!f.upgraded || res.writableEnded || res.destroyed) && stop());
    proxyReq.once('error', stop);
  };

  const responseHeaders = (proxyRes: IncomingMessage, job: ForwardJob): IncomingHttpHeaders => {
    const out: IncomingHttpHeaders = {};
    for (const [k, v] of Object.entries(proxyRes.headers)) if (!HOP.has(k)) out[k] = v;
    for (const [k, v] of Object.entries(job.responseHeaders ?? {})) out[k.toLowerCase()] = v;
    return out;
  };

  /** Reads the tool-error flag from the parsed answer, when the answer is small enough to keep aside. */
  const inspect = (f: Flight, proxyRes: IncomingMessage): void => {
    if (!f.job.callIds.size) return;
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > INSPECT_LIMIT) {
        chunks.length = 0;
        proxyRes.off('data', onData);
        return;
      }
      chunks.push(c);
    };
    proxyRes.on('data', onData);
    proxyRes.once('end', () => {
      if (size <= INSPECT_LIMIT) f.toolError = toolErrorIn(Buffer.concat(chunks).toString('utf8'), proxyRes.headers['content-type'], f.job.callIds);
    });
  };

  const onProxyRes = (proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse): void => {
    const f = flight(req);
    const { job } = f;
    f.proxyRes = proxyRes;
    f.status = proxyRes.statusCode ?? 502;
    const ct = String(proxyRes.headers['content-type'] ?? '');
    if (job.mode === 'rewrite') {
      const chunks: Buffer[] = [];
      proxyRes.on('data', (c: Buffer) => chunks.push(c));
      proxyRes.once('end', () => {
        const raw = Buffer.concat(chunks);
        const out = f.status < 300 && job.rewrite ? Buffer.from(rewriteMessages(raw.toString('utf8'), ct, job.rewrite)) : raw;
        res.writeHead(f.status, { ...responseHeaders(proxyRes, job), 'content-length': out.length });
        res.end(out);
      });
      return;
    }
    inspect(f, proxyRes);
    if (!f.upgraded) {
      res.writeHead(f.status, responseHeaders(proxyRes, job));
      // An SSE client waiting on a slow first event must see the stream open.
      if (ct.includes('text/event-stream')) {
        res.flushHeaders();
        keepAliveTap(proxyRes, res, keepAliveMs);
      }
      proxyRes.pipe(res);
      return;
    }
    if (ct.includes('text/event-stream')) return void proxyRes.pipe(res);
    // A JSON answer (or an HTTP error) after the stream was opened: deliver it as the stream's event.
    const chunks: Buffer[] = [];
    proxyRes.on('data', (c: Buffer) => chunks.push(c));
    proxyRes.once('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const ok = f.status < 300 && ct.includes('application/json');
      const message = ok ? text : jsonRpcErrorMessage(job.jsonRpcId, JsonRpcCode.InternalError, `worker answered HTTP ${f.status}`);
      res.end(`event: message\ndata: ${message.replace(/\n/g, '')}\n\n`);
    });
  };

  const onError = (err: Error, req: IncomingMessage, res: ServerResponse | Socket): void => {
    const f = flight(req);
    const response = res as ServerResponse;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    f.tried.add(f.target);
    if (f.upgraded && !response.writableEnded) {
      if (DROPPED.has(code) && !response.destroyed) f.job.pool.markDown(f.target);
      f.status = 502;
      f.unreachable = true;
      response.end(`event: message\ndata: ${jsonRpcErrorMessage(f.job.jsonRpcId, JsonRpcCode.InternalError, 'the worker failed while running the call')}\n\n`);
      return;
    }
    if (response.headersSent || response.destroyed) return;
    const connectFailure = NOTHING_SENT.has(code);
    // A worker that refused a connect, or dropped one while the client still waited, is routed around until the
    // next health check: calls arriving after a crash go to a live worker instead of a connection of the dead one.
    if (connectFailure || DROPPED.has(code)) f.job.pool.markDown(f.target);
    // Retry only when nothing reached the worker; a tools/call that may have run is never repeated.
    const retriable = connectFailure || (!f.job.mayHaveRun && DROPPED.has(code));
    const next = retriable ? f.job.pool.pick(f.tried) : undefined;
    if (next) {
      logger.warn({ worker: f.target, code, requestId: f.job.requestId, next }, 'worker unreachable; retrying on another worker');
      f.target = next;
      void proxy(req as Request, response as Response, () => undefined);
      return;
    }
    logger.error({ worker: f.target, code, requestId: f.job.requestId }, 'forwarding to worker failed');
    f.unreachable = true;
    f.status = 502;
    // A call that reached a worker which then died may have run: say so, and that it was not repeated elsewhere.
    const message = retriable ? 'no worker for this cluster could be reached' : 'the worker failed while handling the request; it was not retried on another worker because it may have run';
    const body = jsonRpcErrorMessage(f.job.jsonRpcId, JsonRpcCode.InternalError, message);
    response.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  };

  const proxy: RequestHandler<Request, Response> = createProxyMiddleware<Request, Response>({
    agent,
    changeOrigin: true,
    xfwd: false,
    selfHandleResponse: true,
    logger: { info: () => undefined, warn: (m: unknown) => logger.warn({ hpm: m }), error: (m: unknown) => logger.error({ hpm: m }) },
    router: (req) => flight(req).target,
    pathRewrite: (_path, req) => flight(req).job.pool.mcpPath(flight(req).target),
    // http-proxy-middleware 3 declares its error hook with @types/http-proxy's generic order; http-proxy-3 (a
    // candidate replacement for http-proxy) orders them differently, so the hook is passed untyped to fit both.
    on: { proxyReq: onProxyReq, proxyRes: onProxyRes, error: onError as never },
  });

  return {
    forward: (req, res, job) =>
      new Promise<ForwardOutcome>((resolve) => {
        const f: Flight = { job, target: job.target, tried: new Set(), status: 0, toolError: false, unreachable: false, upgraded: false, closeWatched: false };
        flights.set(req, f);
        res.once('close', () => resolve({ status: f.status || res.statusCode, toolError: f.toolError, unreachable: f.unreachable, aborted: !res.writableFinished }));
        void proxy(req, res, () => undefined);
      }),
  };
}

/** Whether a result for one of `ids` in a JSON or SSE answer has isError: true. */
export function toolErrorIn(text: string, contentType: string | undefined, ids: ReadonlySet<JsonRpcId>): boolean {
  return messagesIn(text, contentType).some((m) => ids.has(m.id ?? null) && m.result?.isError === true);
}
