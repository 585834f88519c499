import express, { type ErrorRequestHandler, type Express, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { httpLogSerializers, type Logger } from '@kmg/shared/logger';
import { observeKeycloak, recordToolCall, type Ops, type OpsMetrics } from '@kmg/shared/ops';
import { keycloakIdp, type UpstreamIdp } from './oauth/keycloak.js';
import { createAuditSink } from './policy/audit.js';
import type { GatewayConfig } from './config/schema.js';
import type { KvStore } from './store/kv.js';
import type { AccessTokenVerifier, UpstreamTokenSource } from './auth/principal.js';
import { sitesFor, type Site } from './http/sites.js';
import { requestId } from './http/request-id.js';
import { UnavailableError } from './http/unavailable.js';
import { createOAuthServer, type OAuthServerOptions } from './oauth/index.js';
import { mcpRouter } from './mcp/router.js';
import { createMcpRuntime, type McpRuntime, type McpRuntimeOverrides } from './mcp/runtime.js';

/** What every router gets. The MCP path (mcp/router.ts) reads sites, store, verifier and upstream. */
export interface GatewayDeps {
  config: GatewayConfig;
  store: KvStore;
  logger: Logger;
  sites: Site[];
  verifier: AccessTokenVerifier;
  upstream: UpstreamTokenSource;
  /** Epoch ms; frozen in tests. */
  now: () => number;
  /** Prometheus series (present when main.ts wired ops; absent in most unit tests). */
  metrics?: OpsMetrics;
}

export interface AppDeps extends Partial<OAuthServerOptions> {
  store: KvStore;
  logger: Logger;
  now?: () => number;
  /** /healthz, /readyz, /metrics, tracing and in-flight tracking (shared/src/ops). */
  ops?: Ops;
  /** Replaces MCP-path services (tests). */
  mcp?: McpRuntimeOverrides;
}

export interface GatewayApp {
  app: Express;
  deps: GatewayDeps;
  /** The MCP path's services (worker pools, exchanger, sessions, audit). */
  mcp: McpRuntime;
  /** Stops timers and health checks and flushes the audit sink; main.ts runs it in the shutdown sequence. */
  close(): Promise<void>;
}

/** Builds the Express app from validated config; no listen() (main.ts and tests do that). */
export function createApp(config: GatewayConfig, appDeps: AppDeps): GatewayApp {
  const now = appDeps.now ?? Date.now;
  const sites = sitesFor(config);
  const opsMetrics = appDeps.ops?.metrics;
  // With ops wired, each Keycloak login call is timed in kmg_keycloak_request_duration_seconds{operation}.
  const idpFor = appDeps.idpFor ?? (opsMetrics ? (site: Site) => timedIdp(keycloakIdp(site.org.oauth!.keycloak), opsMetrics) : undefined);
  const oauth = createOAuthServer(config, sites, { ...appDeps, now, ...(idpFor ? { idpFor } : {}) });
  const deps: GatewayDeps = { config, store: appDeps.store, logger: appDeps.logger, sites, verifier: oauth.verifier, upstream: oauth.upstream, now, ...(appDeps.ops ? { metrics: appDeps.ops.metrics } : {}) };

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  // Ops first: probes and /metrics answer even while draining; everything after is traced and counted.
  if (appDeps.ops) app.use(appDeps.ops.middleware());
  app.use(requestLogging(appDeps.logger));
  // Helmet on every page; the consent page tightens CSP further per response.
  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'self'"] } },
      crossOriginResourcePolicy: { policy: 'cross-origin' },
    }),
  );

  if (!appDeps.ops) {
    app.get('/healthz', (_req, res) => void res.json({ ok: true }));
    app.get('/readyz', async (_req, res) => {
      try {
        await deps.store.ping();
        res.json({ ok: true });
      } catch {
        res.status(503).json({ ok: false, reason: 'store unreachable' });
      }
    });
  }

  app.use(receiveTimeout(config.listen.requestTimeoutMs));
  app.use(oauth.wellKnownRouter());
  // Each audited tool call is also counted in kmg_tool_calls_total{tool,outcome}.
  const metrics = appDeps.ops?.metrics;
  const audit = appDeps.mcp?.audit ?? (metrics ? createAuditSink(config.audit.destination) : undefined);
  const runtime = createMcpRuntime(deps, {
    ...appDeps.mcp,
    ...(audit ? { audit: metrics ? { write: (r) => (recordToolCall(metrics, r.tool, r.outcome, r.durationMs / 1000), audit.write(r)), close: () => audit.close() } : audit } : {}),
  });
  const mcp = mcpRouter(runtime);
  for (const site of sites) {
    const setSite = (_req: Request, res: Response, next: NextFunction) => {
      res.locals.site = site;
      next();
    };
    app.use(`${site.base}/mcp`, setSite, mcp);
    app.use(site.base || '/', setSite, oauth.siteRouter(site));
  }

  app.use((_req, res) => void res.status(404).json({ error: 'not_found' }));
  const onError: ErrorRequestHandler = (err: unknown, req, res, _next) => {
    if (err instanceof UnavailableError) {
      req.log?.warn({ err: err.message }, 'dependency unavailable');
      if (res.headersSent) return;
      res.setHeader('Cache-Control', 'no-store').setHeader('Retry-After', String(err.retryAfterSeconds));
      return void res.status(503).json({ error: 'temporarily_unavailable', error_description: `the ${err.dependency} is unavailable; retry later` });
    }
    const status = typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 500;
    if (status >= 500) req.log?.error({ err }, 'unhandled error');
    if (res.headersSent) return;
    res.setHeader('Cache-Control', 'no-store');
    if (status === 413) return void res.status(413).json({ error: 'invalid_request', error_description: 'request body too large' });
    if (status === 400) return void res.status(400).json({ error: 'invalid_request', error_description: 'malformed request body' });
    res.status(status >= 400 && status < 600 ? status : 500).json({ error: status >= 500 ? 'server_error' : 'invalid_request' });
  };
  app.use(onError);
  return { app, deps, mcp: runtime, close: () => runtime.close() };
}

/**
 * pino-http's per-request logger and access log when the level logs requests (info and below). Above it the access
 * log would be dropped anyway, so each request only gets its id and a child logger (pino-http's listeners, timers
 * and serializers were a measurable share of the MCP hot path's CPU for lines never written).
 */
function requestLogging(logger: Logger): (req: Request, res: Response, next: NextFunction) => void {
  if (logger.isLevelEnabled('info')) {
    return pinoHttp({
      logger,
      genReqId: requestId,
      autoLogging: { ignore: (req) => req.url === '/healthz' },
      // No cookies, Set-Cookie, Mcp-Session-Id, or codes/state in URLs and Location headers (shared/src/logger.ts).
      serializers: httpLogSerializers,
    });
  }
  return (req, res, next) => {
    const id = requestId(req, res);
    (req as Request & { id: string }).id = id;
    req.log = logger.child({ reqId: id });
    next();
  };
}

/**
 * The time a client may take to send its whole request, on every route (the server's own requestTimeout is off so
 * that long MCP answers are not cut): a slow sender (slowloris) is disconnected. Answers are not bounded by it.
 */
export function receiveTimeout(ms: number): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    if (!req.complete) {
      const timer = setTimeout(() => {
        if (req.complete) return;
        if (!res.headersSent) res.status(408).setHeader('connection', 'close').json({ error: 'invalid_request', error_description: 'request not received in time' });
        req.socket.destroySoon();
      }, ms);
      timer.unref();
      req.once('end', () => clearTimeout(timer));
      res.once('close', () => clearTimeout(timer));
    }
    next();
  };
}

/** The same IdP with each call (authorize URL incl. discovery, code exchange, refresh) timed. */
function timedIdp(idp: UpstreamIdp, metrics: OpsMetrics): UpstreamIdp {
  return {
    authorizationUrl: (p) => observeKeycloak(metrics, 'authorize', () => idp.authorizationUrl(p)),
    callback: (p) => observeKeycloak(metrics, 'code', () => idp.callback(p)),
    refresh: (t) => observeKeycloak(metrics, 'refresh', () => idp.refresh(t)),
  };
}
