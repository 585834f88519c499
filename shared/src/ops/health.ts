import { get as httpGet, type Agent as HttpAgent, type IncomingMessage, type ServerResponse } from 'node:http';
import { get as httpsGet } from 'node:https';

/**
 * Liveness and readiness. `/healthz` answers 200 while the event loop runs (a restart would not help
 * with a broken dependency). `/readyz` runs every named dependency check in parallel, each bounded by
 * a timeout, and answers 503 when a critical one failed, so a load balancer stops sending traffic here
 * but the pod is not killed. During shutdown `/readyz` is 503 `shutting down` at once.
 *
 * Readiness means "this pod can serve": only what the pod itself needs is critical (the process; Redis
 * for the gateway). A peer every replica shares — an apiserver, a cluster's workers, Keycloak — is
 * reported as `degraded`, never made critical: one cluster's outage would otherwise turn every replica
 * unready and take down every org, including those that never use that cluster.
 *
 * The report names internal peers, so only the ops listener (the metrics port) serves it in full; the
 * public port answers the status alone. Results are cached briefly (`cacheMs`) and concurrent probes
 * share one run, so probes and scrapers cannot multiply the pings to Redis, Keycloak and workers.
 */
export interface ReadinessCheck {
  /** Short stable name reported in the body, e.g. `redis`, `keycloak:acme`, `workers`, `apiserver:prod`. */
  name: string;
  /** Resolves when the dependency is usable; throws (or rejects) with the reason otherwise. Should honour the signal. */
  check: (signal: AbortSignal) => Promise<void>;
  /** Overrides the default timeout for this check. */
  timeoutMs?: number;
  /**
   * Default true. A non-critical failure is reported (`status: "degraded"`) but keeps the replica ready:
   * for a dependency every replica shares and can partly do without (Keycloak, while cached tokens serve),
   * failing readiness everywhere would turn a partial outage into a total one.
   */
  critical?: boolean;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  durationMs: number;
  error?: string;
  critical?: false;
}

export interface ReadinessReport {
  status: 'ready' | 'degraded' | 'unready' | 'shutting down';
  checks: CheckResult[];
}

export const DEFAULT_CHECK_TIMEOUT_MS = 2_000;

class CheckTimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'CheckTimeoutError';
  }
}

async function runOne(check: ReadinessCheck, defaultTimeoutMs: number): Promise<CheckResult> {
  const result = await runOneCheck(check, defaultTimeoutMs);
  return check.critical === false ? { ...result, critical: false } : result;
}

async function runOneCheck(check: ReadinessCheck, defaultTimeoutMs: number): Promise<CheckResult> {
  const timeoutMs = check.timeoutMs ?? defaultTimeoutMs;
  const controller = new AbortController();
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(new CheckTimeoutError(timeoutMs));
      reject(new CheckTimeoutError(timeoutMs));
    }, timeoutMs);
  });
  try {
    // The race makes a check that ignores its signal still time out.
    await Promise.race([Promise.resolve().then(() => check.check(controller.signal)), timeout]);
    return { name: check.name, ok: true, durationMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { name: check.name, ok: false, durationMs: Math.round(performance.now() - started), error: describeError(err) };
  } finally {
    clearTimeout(timer);
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    const base = err.message || err.name;
    // fetch() reports "fetch failed" and hides the useful part in `cause`.
    return cause instanceof Error && cause.message ? `${base}: ${cause.message}` : base;
  }
  return String(err);
}

export async function runReadinessChecks(checks: readonly ReadinessCheck[], defaultTimeoutMs = DEFAULT_CHECK_TIMEOUT_MS): Promise<ReadinessReport> {
  const results = await Promise.all(checks.map((c) => runOne(c, defaultTimeoutMs)));
  const status = results.some((r) => !r.ok && r.critical !== false) ? 'unready' : results.some((r) => !r.ok) ? 'degraded' : 'ready';
  return { status, checks: results };
}

export interface HealthOptions {
  checks: readonly ReadinessCheck[] | (() => readonly ReadinessCheck[]);
  defaultTimeoutMs?: number;
  /** When it returns true, `/readyz` is 503 without running checks (set by graceful shutdown). */
  isShuttingDown?: () => boolean;
  /** How long a report is reused before the checks run again (default 1000 ms; 0: every probe runs them). */
  cacheMs?: number;
  /** Called with each fresh report (not cached reuse), e.g. to export each check as a metric. */
  onReport?: (report: ReadinessReport) => void;
}

export const DEFAULT_READINESS_CACHE_MS = 1_000;

/** Runs the checks at most once per `cacheMs`; probes arriving meanwhile share the last (or running) report. */
export class Readiness {
  #cached: { at: number; report: Promise<ReadinessReport> } | undefined;

  constructor(private readonly options: HealthOptions) {}

  async report(): Promise<ReadinessReport> {
    if (this.options.isShuttingDown?.()) return { status: 'shutting down', checks: [] };
    const report = await this.#fresh();
    // Shutdown may have begun while the checks ran.
    return this.options.isShuttingDown?.() ? { status: 'shutting down', checks: report.checks } : report;
  }

  #fresh(): Promise<ReadinessReport> {
    const cacheMs = this.options.cacheMs ?? DEFAULT_READINESS_CACHE_MS;
    const cached = this.#cached;
    if (cached && performance.now() - cached.at < cacheMs) return cached.report;
    const checks = typeof this.options.checks === 'function' ? this.options.checks() : this.options.checks;
    // Probes arriving while the checks run wait for the same run; the cache period starts when it ends.
    const entry: { at: number; report: Promise<ReadinessReport> } = { at: Infinity, report: Promise.resolve({ status: 'unready', checks: [] }) };
    entry.report = runReadinessChecks(checks, this.options.defaultTimeoutMs)
      .then(
        (r) => (this.options.onReport?.(r), r),
        (err: unknown): ReadinessReport => ({ status: 'unready', checks: [{ name: 'readiness', ok: false, durationMs: 0, error: describeError(err) }] }),
      )
      .finally(() => (entry.at = performance.now()));
    this.#cached = entry;
    return entry.report;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(body));
}

export function healthzHandler() {
  return (_req: IncomingMessage, res: ServerResponse): void => sendJson(res, 200, { status: 'alive' });
}

/**
 * `/readyz`. With `detail` the body is the whole report (check names, errors, timings) — for the ops
 * listener only; without it the body is the status alone, so the public port names no internal peer.
 */
export function readyzHandler(options: HealthOptions | Readiness, { detail = true }: { detail?: boolean } = {}) {
  const readiness = options instanceof Readiness ? options : new Readiness(options);
  return (_req: IncomingMessage, res: ServerResponse): void => {
    void readiness.report().then((report) => {
      const status = report.status === 'ready' || report.status === 'degraded' ? 200 : 503;
      sendJson(res, status, detail ? report : { status: report.status });
    });
  };
}

/* ---------- ready-made checks ---------- */

/** Redis answers PING (ioredis or any client with `ping()`). */
export function redisCheck(redis: { ping(): Promise<unknown> }, name = 'redis'): ReadinessCheck {
  return {
    name,
    check: async () => {
      const pong = await redis.ping();
      if (pong !== 'PONG') throw new Error(`unexpected PING reply ${JSON.stringify(pong)}`);
    },
  };
}

export type FetchLike = (url: string, init: { signal: AbortSignal; method?: string; headers?: Record<string, string> }) => Promise<{ ok: boolean; status: number }>;

/**
 * An HTTP GET that must answer 2xx, e.g. Keycloak's discovery document, a worker's /readyz, or an
 * apiserver's /readyz. Pass `fetchImpl` when the peer needs a custom CA (an undici Agent) or a token.
 */
export function httpCheck(name: string, url: string, options: { fetchImpl?: FetchLike; headers?: Record<string, string>; timeoutMs?: number } = {}): ReadinessCheck {
  const doFetch: FetchLike = options.fetchImpl ?? ((u, init) => fetch(u, init));
  return {
    name,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    check: async (signal) => {
      const res = await doFetch(url, { signal, method: 'GET', ...(options.headers ? { headers: options.headers } : {}) });
      if (!res.ok) throw new Error(`GET ${redactUrl(url)} answered ${res.status}`);
    },
  };
}

/**
 * An HTTP GET through a node:http(s) Agent — for peers whose TLS trust lives in an Agent (a
 * kube-apiserver with its own CA). `accept` says which statuses count as reachable and healthy;
 * by default 2xx, plus 401/403 for an apiserver that refuses anonymous /readyz (it answered, so it is up).
 */
export function agentHttpCheck(name: string, url: URL, options: { agent?: HttpAgent; accept?: (status: number) => boolean; timeoutMs?: number } = {}): ReadinessCheck {
  const accept = options.accept ?? ((s: number) => (s >= 200 && s < 300) || s === 401 || s === 403);
  return {
    name,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    check: (signal) =>
      new Promise<void>((resolve, reject) => {
        const get = url.protocol === 'https:' ? httpsGet : httpGet;
        const req = get(url, { ...(options.agent ? { agent: options.agent } : {}), signal }, (res) => {
          res.resume();
          const status = res.statusCode ?? 0;
          if (accept(status)) resolve();
          else reject(new Error(`GET ${redactUrl(url.toString())} answered ${status}`));
        });
        req.on('error', reject);
      }),
  };
}

/** Passes when at least `min` of the checks pass, e.g. "some worker is reachable". */
export function anyOfCheck(name: string, checks: readonly ReadinessCheck[], min = 1): ReadinessCheck {
  return {
    name,
    check: async () => {
      const report = await runReadinessChecks(checks);
      const passing = report.checks.filter((c) => c.ok).length;
      if (passing < min) {
        throw new Error(`${passing}/${checks.length} reachable: ${report.checks.filter((c) => !c.ok).map((c) => `${c.name} (${c.error})`).join('; ')}`);
      }
    },
  };
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return '[invalid url]';
  }
}
