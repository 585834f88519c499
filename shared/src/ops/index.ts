import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { createAuditSink, type AuditConfig, type AuditSink } from './audit.js';
import type { OpsConfig } from './config.js';
import { healthzHandler, Readiness, readyzHandler, type ReadinessCheck } from './health.js';
import { createMetrics, httpMetricsMiddleware, metricsHandler, type OpsMetrics, type Service } from './metrics.js';
import { installGracefulShutdown, InFlightTracker, type GracefulShutdown } from './shutdown.js';
import { traceMiddleware } from './trace.js';

export * from './audit.js';
export * from './config.js';
export * from './health.js';
export * from './metrics.js';
export * from './shutdown.js';
export * from './trace.js';

/**
 * Everything operational for one process, wired in three lines:
 *
 *   const ops = createOps({ service: 'worker', config: config.ops, logger, checks: () => [...] });
 *   app.use(ops.middleware());                        // first middleware: /healthz /readyz /metrics + tracing
 *   ops.handleShutdown([app.listen(port, host)], { onClose: [() => redis.quit()] });
 *
 * The main port answers /healthz and /readyz with the status only. With `ops.metrics.port` set, the ops
 * listener there serves /metrics, /healthz and /readyz with every check named: point probes and
 * scrapers at it, and it stays open until the process exits, so probes answer throughout a drain.
 */
export interface Ops {
  readonly metrics: OpsMetrics;
  readonly audit: AuditSink;
  readonly tracker: InFlightTracker;
  isShuttingDown(): boolean;
  /** Serves the ops endpoints, then runs trace → HTTP metrics → in-flight tracking before the app. */
  middleware(): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;
  /**
   * With `ops.metrics.port` set: starts the ops listener on `host` (/metrics, /healthz, detailed /readyz)
   * and returns it, to be passed to handleShutdown with the main server. Otherwise undefined.
   */
  listenMetrics(host: string): Server | undefined;
  /** Installs SIGTERM/SIGINT handling for these servers (call once, after listen). */
  handleShutdown(servers: Server[], options?: { onClose?: Array<() => Promise<void> | void>; signals?: NodeJS.Signals[]; exit?: (code: number) => void }): GracefulShutdown;
}

export interface CreateOpsOptions {
  service: Service;
  config: OpsConfig;
  logger?: Logger;
  /** Readiness checks; a function is re-evaluated on each /readyz (e.g. the current worker list). */
  checks?: readonly ReadinessCheck[] | (() => readonly ReadinessCheck[]);
  /** Where `ops.audit` writes; default off. Closed (flushed) at shutdown. */
  audit?: AuditConfig;
}

export function createOps(options: CreateOpsOptions): Ops {
  const { config, logger } = options;
  const metrics = createMetrics({ service: options.service, defaultMetrics: config.metrics.processMetrics });
  const auditConfig = options.audit ?? { sink: 'off' };
  const audit = createAuditSink(auditConfig, { onError: (err) => logger?.error({ err }, 'audit sink write failed') });
  const tracker = new InFlightTracker();
  let shutdown: GracefulShutdown | undefined;
  const isShuttingDown = (): boolean => shutdown?.isShuttingDown() ?? false;

  const healthz = healthzHandler();
  const readiness = new Readiness({
    checks: options.checks ?? [],
    defaultTimeoutMs: config.readiness.timeoutMs,
    cacheMs: config.readiness.cacheMs,
    isShuttingDown,
    onReport: (report) => {
      for (const c of report.checks) metrics.readinessCheckUp.set({ check: c.name, critical: String(c.critical !== false) }, c.ok ? 1 : 0);
    },
  });
  // The public port names no internal peer; the ops listener gives the whole report.
  const readyz = readyzHandler(readiness, { detail: false });
  const readyzDetail = readyzHandler(readiness, { detail: true });
  let opsServer: Server | undefined;
  const metricsEndpoint = config.metrics.enabled ? metricsHandler(metrics) : undefined;
  // On a separate port, /metrics is not served on the main one.
  const metricsOnMain = config.metrics.port === undefined ? metricsEndpoint : undefined;
  const trace = traceMiddleware();
  const http = httpMetricsMiddleware(metrics);
  const inFlight = tracker.middleware();

  return {
    metrics,
    audit,
    tracker,
    isShuttingDown,
    middleware: () => (req, res, next) => {
      if (req.method === 'GET' || req.method === 'HEAD') {
        const path = (req.url ?? '/').split('?')[0];
        if (path === '/healthz') return healthz(req, res);
        if (path === '/readyz') return readyz(req, res);
        if (path === '/metrics' && metricsOnMain) return metricsOnMain(req, res);
      }
      trace(req, res, (err) => {
        if (err) return next(err);
        http(req, res, (err2) => (err2 ? next(err2) : inFlight(req, res, next)));
      });
    },
    listenMetrics: (host) => {
      if (config.metrics.port === undefined) return undefined;
      const server = createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0];
        if (req.method === 'GET' || req.method === 'HEAD') {
          if (path === '/metrics' && metricsEndpoint) return metricsEndpoint(req, res);
          if (path === '/healthz') return healthz(req, res);
          if (path === '/readyz') return readyzDetail(req, res);
        }
        res.statusCode = 404;
        res.end();
      });
      server.listen(config.metrics.port, host, () => logger?.info({ host, port: config.metrics.port }, 'ops listener (metrics, probes) listening'));
      opsServer = server;
      return server;
    },
    handleShutdown: (servers, extra = {}) => {
      // The ops listener is not drained with the others: probes keep their answers (alive; readyz
      // "shutting down") while in-flight calls finish, and it closes last.
      const ops = opsServer;
      const closeOps = ops ? [() => new Promise<void>((r) => (ops.close(() => r()), ops.closeAllConnections()))] : [];
      shutdown = installGracefulShutdown({
        servers: servers.filter((s) => s !== ops),
        tracker,
        timeoutMs: config.shutdown.timeoutSeconds * 1000,
        drainDelayMs: config.shutdown.drainDelaySeconds * 1000,
        ...(logger ? { logger } : {}),
        onClose: [...(extra.onClose ?? []), () => audit.close(), ...closeOps],
        ...(extra.signals ? { signals: extra.signals } : {}),
        ...(extra.exit ? { exit: extra.exit } : {}),
      });
      return shutdown;
    },
  };
}
