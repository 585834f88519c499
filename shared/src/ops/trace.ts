import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/**
 * Request ids and W3C Trace Context (https://www.w3.org/TR/trace-context/). The gateway continues the
 * client's trace (or starts one), logs with the request id, and forwards `traceparent` and
 * `x-request-id` to the worker, whose logs and audit lines then carry the same ids.
 */
export interface TraceParent {
  version: string;
  traceId: string;
  /** The caller's span id (parent-id in the spec). */
  parentId: string;
  flags: string;
}

export interface TraceContext {
  requestId: string;
  traceId: string;
  /** This hop's span id; forwarded as the parent-id of the next hop. */
  spanId: string;
  /** The caller's span id, when the request carried a valid traceparent. */
  parentSpanId?: string;
  flags: string;
  /** Forwarded unchanged with a valid traceparent (vendor data). */
  tracestate?: string;
}

export const REQUEST_ID_HEADER = 'x-request-id';
const HEX = /^[0-9a-f]+$/;
// Same rule as the gateway's request-id helper: 8-128 safe characters, else a fresh UUID.
const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** Parses a traceparent header, or returns undefined when it is invalid (then a new trace starts). */
export function parseTraceparent(header: string | undefined): TraceParent | undefined {
  if (!header) return undefined;
  const parts = header.trim().split('-');
  if (parts.length < 4) return undefined;
  const [version, traceId, parentId, flags] = parts as [string, string, string, string];
  if (version.length !== 2 || !HEX.test(version) || version === 'ff') return undefined;
  // Version 00 has exactly four fields; later versions may append more, which we ignore.
  if (version === '00' && parts.length !== 4) return undefined;
  if (traceId.length !== 32 || !HEX.test(traceId) || /^0+$/.test(traceId)) return undefined;
  if (parentId.length !== 16 || !HEX.test(parentId) || /^0+$/.test(parentId)) return undefined;
  if (flags.length !== 2 || !HEX.test(flags)) return undefined;
  return { version, traceId, parentId, flags };
}

export function formatTraceparent(traceId: string, spanId: string, flags = '01'): string {
  return `00-${traceId}-${spanId}-${flags}`;
}

function nonZeroHex(bytes: number): string {
  for (;;) {
    const hex = randomBytes(bytes).toString('hex');
    if (!/^0+$/.test(hex)) return hex;
  }
}

export const newTraceId = (): string => nonZeroHex(16);
export const newSpanId = (): string => nonZeroHex(8);

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The trace context for an incoming request: continues a valid traceparent, keeps a sane x-request-id. */
export function traceContextFrom(headers: IncomingHttpHeaders): TraceContext {
  const parent = parseTraceparent(single(headers.traceparent));
  const incomingId = single(headers[REQUEST_ID_HEADER]);
  const requestId = incomingId && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
  const tracestate = parent ? single(headers.tracestate) : undefined;
  return {
    requestId,
    traceId: parent?.traceId ?? newTraceId(),
    spanId: newSpanId(),
    ...(parent ? { parentSpanId: parent.parentId } : {}),
    flags: parent?.flags ?? '01',
    ...(tracestate ? { tracestate } : {}),
  };
}

/** Headers to send to the next hop (the worker) so it continues this trace with the same request id. */
export function traceHeaders(ctx: TraceContext): Record<string, string> {
  return {
    traceparent: formatTraceparent(ctx.traceId, ctx.spanId, ctx.flags),
    [REQUEST_ID_HEADER]: ctx.requestId,
    ...(ctx.tracestate ? { tracestate: ctx.tracestate } : {}),
  };
}

/** Fields to put on log lines and audit records. */
export function traceLogFields(ctx: TraceContext): { requestId: string; traceId: string; spanId: string } {
  return { requestId: ctx.requestId, traceId: ctx.traceId, spanId: ctx.spanId };
}

const storage = new AsyncLocalStorage<TraceContext>();
const byRequest = new WeakMap<IncomingMessage, TraceContext>();

/** The trace context of the request being handled (via AsyncLocalStorage), if any. */
export function currentTrace(): TraceContext | undefined {
  return storage.getStore();
}

/** The trace context a `traceMiddleware` attached to this request; creates one when none was. */
export function traceOf(req: IncomingMessage): TraceContext {
  let ctx = byRequest.get(req);
  if (!ctx) {
    ctx = traceContextFrom(req.headers);
    byRequest.set(req, ctx);
  }
  return ctx;
}

/** Runs `fn` with `ctx` as the current trace (for work outside an HTTP request). */
export function withTrace<T>(ctx: TraceContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/**
 * Express-compatible middleware: establishes the request's trace context, echoes `x-request-id` on the
 * response, and runs the rest of the chain inside it so `currentTrace()` works in handlers.
 * For pino-http, pass `genReqId: (req) => traceOf(req).requestId`.
 */
export function traceMiddleware() {
  return (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void => {
    const ctx = traceOf(req);
    // Later handlers (pino-http's genReqId, the proxy) read the header: make it the canonical id.
    req.headers[REQUEST_ID_HEADER] = ctx.requestId;
    res.setHeader(REQUEST_ID_HEADER, ctx.requestId);
    storage.run(ctx, next);
  };
}
