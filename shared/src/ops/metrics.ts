import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics both processes expose on /metrics. One registry per process (never the
 * prom-client global one), so tests can build several apps in one process without name clashes.
 *
 * Series (all prefixed `kmg_`):
 *   http_requests_total{service,method,route,status}            counter
 *   http_request_duration_seconds{service,method,route,status}  histogram
 *   tool_calls_total{service,tool,outcome}                      counter
 *   tool_call_duration_seconds{service,tool,outcome}            histogram
 *   token_exchange_cache_hits_total{layer}                      counter (layer: memory | redis)
 *   token_exchange_cache_misses_total                           counter
 *   keycloak_request_duration_seconds{operation,outcome}        histogram
 *   live_sessions                                               gauge
 *   live_streams{service}                                       gauge
 *   readiness_check_up{check,critical}                          gauge (1 passing, 0 failing, at the last /readyz run)
 * plus the default Node.js process metrics (`kmg_process_*`, `kmg_nodejs_*`).
 */
export const METRIC_PREFIX = 'kmg_';

export type Service = 'gateway' | 'worker';
/** What happened to a tool call. `error` = isError result; `denied` = refused by policy/RBAC; `failed` = protocol/transport failure. */
export type ToolOutcome = 'ok' | 'error' | 'denied' | 'failed' | 'cancelled';
export type KeycloakOutcome = 'ok' | 'error' | 'timeout';

export interface OpsMetrics {
  readonly registry: Registry;
  readonly service: Service;
  readonly httpRequests: Counter<'service' | 'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'service' | 'method' | 'route' | 'status'>;
  readonly toolCalls: Counter<'service' | 'tool' | 'outcome'>;
  readonly toolCallDuration: Histogram<'service' | 'tool' | 'outcome'>;
  readonly exchangeCacheHits: Counter<'layer'>;
  readonly exchangeCacheMisses: Counter;
  readonly keycloakDuration: Histogram<'operation' | 'outcome'>;
  readonly liveSessions: Gauge;
  readonly liveStreams: Gauge<'service'>;
  readonly readinessCheckUp: Gauge<'check' | 'critical'>;
}

export interface CreateMetricsOptions {
  service: Service;
  /** Collect Node.js process metrics (event loop lag, heap, GC). Default true. */
  defaultMetrics?: boolean;
}

// Latency buckets in seconds: sub-millisecond gateway overhead up to minute-long streamed tool calls.
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const KEYCLOAK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(options: CreateMetricsOptions): OpsMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return {
    registry,
    service: options.service,
    httpRequests: new Counter({
      name: `${METRIC_PREFIX}http_requests_total`,
      help: 'HTTP requests answered, by route template and status code',
      labelNames: ['service', 'method', 'route', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'HTTP request latency until the response ended (streams included), by route template',
      labelNames: ['service', 'method', 'route', 'status'] as const,
      buckets: HTTP_BUCKETS,
      registers,
    }),
    toolCalls: new Counter({
      name: `${METRIC_PREFIX}tool_calls_total`,
      help: 'MCP tools/call requests, by tool name and outcome',
      labelNames: ['service', 'tool', 'outcome'] as const,
      registers,
    }),
    toolCallDuration: new Histogram({
      name: `${METRIC_PREFIX}tool_call_duration_seconds`,
      help: 'MCP tools/call latency, by tool name and outcome',
      labelNames: ['service', 'tool', 'outcome'] as const,
      buckets: HTTP_BUCKETS,
      registers,
    }),
    exchangeCacheHits: new Counter({
      name: `${METRIC_PREFIX}token_exchange_cache_hits_total`,
      help: 'Token exchanges answered from cache, by cache layer (memory, redis)',
      labelNames: ['layer'] as const,
      registers,
    }),
    exchangeCacheMisses: new Counter({
      name: `${METRIC_PREFIX}token_exchange_cache_misses_total`,
      help: 'Token exchanges that needed a call to the identity provider',
      registers,
    }),
    keycloakDuration: new Histogram({
      name: `${METRIC_PREFIX}keycloak_request_duration_seconds`,
      help: 'Latency of calls to Keycloak, by operation (exchange, refresh, code, discovery, jwks) and outcome',
      labelNames: ['operation', 'outcome'] as const,
      buckets: KEYCLOAK_BUCKETS,
      registers,
    }),
    liveSessions: new Gauge({
      name: `${METRIC_PREFIX}live_sessions`,
      help: 'MCP sessions this replica currently holds bound (Mcp-Session-Id)',
      registers,
    }),
    liveStreams: new Gauge({
      name: `${METRIC_PREFIX}live_streams`,
      help: 'Open streamed responses (SSE) on this replica',
      labelNames: ['service'] as const,
      registers,
    }),
    readinessCheckUp: new Gauge({
      name: `${METRIC_PREFIX}readiness_check_up`,
      help: 'Each readiness check at its last run: 1 passing, 0 failing. critical="false" (a cluster, its workers, Keycloak) degrades without making the pod unready',
      labelNames: ['check', 'critical'] as const,
      registers,
    }),
  };
}

/** Starts a timer for one tool call; call the returned function once with the outcome. Extra calls are ignored. */
export function startToolCall(metrics: OpsMetrics, tool: string): (outcome: ToolOutcome) => void {
  const started = process.hrtime.bigint();
  let done = false;
  return (outcome) => {
    if (done) return;
    done = true;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const labels = { service: metrics.service, tool, outcome };
    metrics.toolCalls.inc(labels);
    metrics.toolCallDuration.observe(labels, seconds);
  };
}

/** Records a finished tool call whose outcome and duration were measured elsewhere (e.g. from an audit record). */
export function recordToolCall(metrics: OpsMetrics, tool: string, outcome: string, durationSeconds: number): void {
  const labels = { service: metrics.service, tool, outcome };
  metrics.toolCalls.inc(labels);
  metrics.toolCallDuration.observe(labels, Math.max(0, durationSeconds));
}

/** Times one call to Keycloak; a thrown error is recorded (as `timeout` when it was an abort) and rethrown. */
export async function observeKeycloak<T>(metrics: OpsMetrics, operation: string, call: () => Promise<T>): Promise<T> {
  const end = metrics.keycloakDuration.startTimer({ operation });
  try {
    const result = await call();
    end({ outcome: 'ok' });
    return result;
  } catch (err) {
    const name = (err as { name?: string } | null)?.name;
    end({ outcome: name === 'AbortError' || name === 'TimeoutError' ? 'timeout' : 'error' });
    throw err;
  }
}

/**
 * `live_sessions` on a replica: MCP sessions used here within their idle lifetime. Sessions live in the
 * shared store; each replica reports those it served recently, so the sum over replicas bounds the total.
 */
export class LiveSessions {
  readonly #expiry = new Map<string, number>();
  constructor(metrics: OpsMetrics, private readonly now: () => number = Date.now) {
    // Pruned and counted at scrape time: no timers.
    const gauge = metrics.liveSessions;
    (gauge as unknown as { collect?: () => void }).collect = () => gauge.set(this.count());
  }
  /** A session was opened or used here; it stays live for `ttlSeconds` unless used again or ended. */
  seen(id: string, ttlSeconds: number): void {
    this.#expiry.set(id, this.now() + ttlSeconds * 1000);
  }
  ended(id: string): void {
    this.#expiry.delete(id);
  }
  count(): number {
    const t = this.now();
    for (const [id, exp] of this.#expiry) if (exp <= t) this.#expiry.delete(id);
    return this.#expiry.size;
  }
}

/** Counts an open stream until its response closes (finished or aborted). */
export function trackStream(metrics: OpsMetrics, res: ServerResponse): void {
  const labels = { service: metrics.service };
  metrics.liveStreams.inc(labels);
  res.once('close', () => metrics.liveStreams.dec(labels));
}

const ROUTE_LABEL = Symbol.for('kmg.metrics.route');
type Labelled = ServerResponse & { [ROUTE_LABEL]?: string };

/**
 * Names the route of a request for the metrics label, e.g. `/orgs/:org/mcp`. Handlers that are not
 * Express routes (proxies mounted with `app.use`) call this so the label stays a template, not a raw path.
 */
export function setMetricsRoute(res: ServerResponse, route: string): void {
  (res as Labelled)[ROUTE_LABEL] = route;
}

interface RoutedRequest extends IncomingMessage {
  route?: { path?: unknown };
  baseUrl?: string;
}

/**
 * Route label: an explicit label, else the Express route template, else the mount path of the router
 * that answered (e.g. `/orgs/acme/mcp`: bounded by configuration), else `unmatched` (bounded cardinality).
 */
export function routeLabel(req: RoutedRequest, res: ServerResponse): string {
  const explicit = (res as Labelled)[ROUTE_LABEL];
  if (explicit) return explicit;
  const path = req.route?.path;
  if (typeof path === 'string') return `${req.baseUrl ?? ''}${path}`.replace(/(.)\/$/, '$1') || '/';
  if (req.baseUrl) return req.baseUrl;
  return 'unmatched';
}

function contentTypeOf(res: ServerResponse, args: unknown[]): string {
  // writeHead(status[, message][, headers]): headers passed here are not visible through getHeader().
  for (const a of args) {
    if (a && typeof a === 'object') {
      const entries = Array.isArray(a) ? [] : Object.entries(a as Record<string, unknown>);
      const found = entries.find(([k]) => k.toLowerCase() === 'content-type');
      if (found) return String(found[1]);
    }
  }
  return String(res.getHeader('content-type') ?? '');
}

/**
 * Counts a response in `live_streams` from the moment its headers say text/event-stream until it closes,
 * whoever writes it (a handler, the SDK, the proxy): Node sends every response's headers through writeHead.
 */
function trackIfStream(metrics: OpsMetrics, res: ServerResponse): void {
  const original = res.writeHead;
  const patched = function (this: ServerResponse, ...args: unknown[]) {
    const result = (original as (...a: unknown[]) => ServerResponse).apply(this, args);
    if (/text\/event-stream/i.test(contentTypeOf(res, args))) trackStream(metrics, res);
    res.writeHead = original;
    return result;
  };
  res.writeHead = patched as typeof res.writeHead;
}

/**
 * Express-compatible middleware recording request count and latency per route when the response closes,
 * and open SSE responses in `live_streams`.
 */
export function httpMetricsMiddleware(metrics: OpsMetrics) {
  return (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void => {
    const started = process.hrtime.bigint();
    trackIfStream(metrics, res);
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // A response closed before headers were sent was aborted by the client: status 499, as nginx logs it.
      const status = res.headersSent ? String(res.statusCode) : '499';
      const labels = { service: metrics.service, method: req.method ?? 'GET', route: routeLabel(req, res), status };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, seconds);
    });
    next();
  };
}

/** Handler for GET /metrics in the Prometheus text format. */
export function metricsHandler(metrics: OpsMetrics) {
  return (_req: IncomingMessage, res: ServerResponse): void => {
    metrics.registry.metrics().then(
      (body) => {
        res.statusCode = 200;
        res.setHeader('Content-Type', metrics.registry.contentType);
        res.setHeader('Cache-Control', 'no-store');
        res.end(body);
      },
      () => {
        res.statusCode = 500;
        res.end('metrics collection failed\n');
      },
    );
  };
}
