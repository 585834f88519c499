import { randomBytes, randomUUID } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { LiveSessions } from '@kmg/shared/ops';
import type { GatewayDeps } from '../app.js';
import type { Site } from '../http/sites.js';
import { InvalidTokenError, type AccessTokenVerifier, type Principal } from '../auth/principal.js';
import { bearerChallenge } from '../auth/bearer.js';
import { ResourceServerVerifier } from '../auth/resource-server.js';
import { checkMcpOrg, defaultCluster, type ClusterConfig, type ExchangeConfig, type McpOrgConfig } from '../config/mcp.js';
import type { OrgConfig } from '../config/schema.js';
import { createSealer } from '../crypto/seal.js';
import { IdentityAssertionSigner } from '../exchange/assertion.js';
import { ExchangeRefusedError, ExchangeUnavailableError, IdentityRefusedError } from '../exchange/errors.js';
import { TokenExchanger, type Sealer as ExchangeSealer } from '../exchange/exchanger.js';
import { createAuditSink, type AuditRecord, type AuditSink } from '../policy/audit.js';
import { ToolCatalog } from '../policy/catalog.js';
import { checkRateLimits } from '../policy/rate-limit.js';
import { decideTool, filterTools, type ToolInfo } from '../policy/tools.js';
import { SessionStore } from '../sessions/store.js';
import { WorkerPool } from '../workers/pool.js';
import { createForwarders, type ForwardState } from './forward.js';
import { rewriteMessages } from './messages.js';
import { JsonRpcCode, McpRequestError, sendJsonRpcError, type JsonRpcId } from './errors.js';
import { checkContentType, parseMcpBody, type JsonRpcMessage, type ParsedRequest, type ToolCall } from './parse.js';
import { originAllowed, applyCors } from './origin.js';
import { VerifiedTokenCache } from './verified-tokens.js';

/** Protocol revisions with sessions and initialize; from 2026-07-28 on, every request stands alone. */
const FIRST_STATELESS_REVISION = '2026-07-28';

export interface McpRouterExtras {
  /** Replaces the store-backed exchange cache's sealer (tests). */
  sealer?: ExchangeSealer;
  audit?: AuditSink;
  exchanger?: TokenExchanger;
}

export interface McpRuntime {
  exchanger: TokenExchanger;
  sessions: SessionStore;
  pools: Map<string, WorkerPool>;
  signer: Promise<IdentityAssertionSigner>;
  audit: AuditSink;
  close(): Promise<void>;
}

type McpRouter = Router & { runtime: McpRuntime };

/**
 * The MCP URL of every org: authenticate → Origin/CORS → session → rate limit → policy → credentials for the
 * cluster (exchange or identity assertion) → forward to a healthy worker, streaming the answer back.
 * Mounted by app.ts at `/orgs/{org}/mcp` (and `/mcp` for the single org) with `res.locals.site` set.
 * `{mcpUrl}/clusters/{name}` serves an org's other clusters with the same token.
 */
export function mcpRouter(deps: GatewayDeps, extras: McpRouterExtras = {}): McpRouter {
  const { config, logger, store: kv } = deps;
  const now = deps.now;
  const problems: string[] = [];
  config.orgs.forEach((org, i) => checkMcpOrg(org as McpOrgConfig, ['orgs', i], (p, m) => problems.push(`${p.join('.')}: ${m}`)));
  if (problems.length) throw new Error(`invalid gateway config:\n  - ${problems.join('\n  - ')}`);

  const sealer = extras.sealer ?? createSealer(config.encryptionKeys, kv);
  const exchanger = extras.exchanger ?? new TokenExchanger({ kv, sealer, logger, now, ...(deps.metrics ? { metrics: deps.metrics } : {}) });
  const sessions = new SessionStore(kv, now);
  // kmg_live_sessions: sessions used on this replica within their idle lifetime.
  const live = deps.metrics ? new LiveSessions(deps.metrics, now) : undefined;
  const audit = extras.audit ?? createAuditSink(config.audit.destination);
  const signer = IdentityAssertionSigner.create(config.identityAssertion, config.publicUrl);
  signer.catch((err: unknown) => logger.error({ err }, 'identity assertion key could not be loaded'));
  const catalog = new ToolCatalog(5 * 60_000, now);
  const rsOrgs = config.orgs.filter((o) => o.mode === 'resource-server' && o.resourceServer).map((o) => ({ name: o.name, resourceServer: o.resourceServer! }));
  // Keycloak JWTs depend only on their bytes and the clock: a repeat of a verified token skips the signature check.
  const rsVerifier = new VerifiedTokenCache(new ResourceServerVerifier(rsOrgs, now), { now });
  const pools = new Map<string, WorkerPool>();
  for (const org of config.orgs) {
    for (const c of org.clusters) {
      const pool = new WorkerPool(c, logger, now);
      pool.start();
      pools.set(`${org.name}/${c.name}`, pool);
    }
  }
  const forward = createForwarders(logger);
  const sweeper = setInterval(() => exchanger.sweep(), 60_000);
  sweeper.unref();

  const verifierFor = (org: OrgConfig): AccessTokenVerifier => (org.mode === 'resource-server' ? rsVerifier : deps.verifier);

  const router = Router({ mergeParams: true }) as McpRouter;
  router.runtime = {
    exchanger,
    sessions,
    pools,
    signer,
    audit,
    close: async () => {
      clearInterval(sweeper);
      for (const p of pools.values()) p.stop();
      await audit.close();
    },
  };

  const site = (res: Response): Site => res.locals.site as Site;

  // 1. Origin (DNS rebinding) and CORS, before anything else: a preflight carries no token.
  router.use((req, res, next) => {
    const s = site(res);
    const origin = req.headers.origin;
    if (origin !== undefined && !originAllowed(origin, s, config.publicUrl)) {
      res.status(403).json({ jsonrpc: '2.0', id: null, error: { code: -32600, message: `Origin ${origin} is not allowed` } });
      return;
    }
    if (origin !== undefined) applyCors(res, origin);
    if (req.method === 'OPTIONS') return void res.status(204).end();
    next();
  });

  // Public keys of identity assertions, for workers of impersonation clusters (assertion.jwksUrl).
  router.get('/identity/jwks.json', async (_req, res, next) => {
    try {
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.json((await signer).jwks());
    } catch (err) {
      next(err);
    }
  });

  // 2. Authentication: every request, every method. A token problem is always 401 + WWW-Authenticate.
  router.use(async (req, res, next) => {
    const s = site(res);
    const auth = req.headers.authorization;
    const token = auth && /^Bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
    try {
      if (!token) throw new InvalidTokenError('missing', 'no bearer token');
      res.locals.principal = await verifierFor(s.org).verify(s.org.name, s.mcpUrl, token);
      res.locals.token = token;
      next();
    } catch (e) {
      if (e instanceof InvalidTokenError) return bearerChallenge(res, s, e);
      next(e);
    }
  });

  // Bodies are read whole (gzip, deflate and br decoded; other encodings refused) and bounded after decoding.
  const readBody = express.raw({ type: () => true, limit: config.mcp.maxBodyBytes });
  router.use((req, res, next) =>
    readBody(req, res, (err?: unknown) => {
      if (!err) return next();
      const status = (err as { status?: number }).status;
      if (status === 413) return sendJsonRpcError(res, new McpRequestError(413, JsonRpcCode.InvalidRequest, 'request body too large'));
      if (status === 415) return sendJsonRpcError(res, new McpRequestError(415, JsonRpcCode.InvalidRequest, 'unsupported Content-Encoding or charset'));
      sendJsonRpcError(res, new McpRequestError(400, JsonRpcCode.ParseError, 'the request body could not be read'));
    }),
  );

  const handle = (pickCluster: (req: Request, org: OrgConfig) => ClusterConfig | undefined, explicit: boolean) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      const s = site(res);
      const cluster = pickCluster(req, s.org);
      if (!cluster) return void res.status(404).json({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'no such cluster in this organisation' } });
      await serve(req, res, s, cluster, explicit);
    } catch (err) {
      next(err);
    }
  };

  router.all('/', handle((_req, org) => defaultCluster(org), false));
  router.all('/clusters/:cluster', handle((req, org) => org.clusters.find((c) => c.name === req.params.cluster), true));

  async function serve(req: Request, res: Response, s: Site, urlCluster: ClusterConfig, explicitCluster: boolean): Promise<void> {
    const principal = res.locals.principal as Principal;
    const requestId = String(res.getHeader('x-request-id') ?? req.headers['x-request-id'] ?? randomUUID());
    const org = s.org;
    const sessionId = headerValue(req, 'mcp-session-id');

    // A POST's rate-limit counters go to the store together with its session lookup (one round trip, not two);
    // a POST refused for its session still counts.
    const earlyLimit = req.method === 'POST' && sessionId !== undefined ? checkRateLimits(kv, principal, org.rateLimits, now()) : undefined;
    earlyLimit?.catch(() => undefined);

    // Sessions are the gateway's: check ownership on every request that names one.
    if (sessionId !== undefined) {
      const found = await sessions.lookup(sessionId, principal, org.sessionTtlSeconds);
      if (found.ok) live?.seen(sessionId, org.sessionTtlSeconds);
      if (!found.ok) {
        if (found.reason === 'other_principal') logger.warn({ requestId, org: org.name, user: principal.username }, 'session id presented by another user; refused');
        return void res.status(404).json({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } });
      }
      if (req.method === 'DELETE') {
        live?.ended(sessionId);
        await sessions.end(sessionId);
        closeLocalStreams(sessionId);
        return void res.status(204).end();
      }
      if (req.method === 'GET') return openSessionStream(req, res, sessionId);
    }

    // The one parse: policy reads it, the worker gets its re-serialisation. What cannot be parsed is refused.
    let parsed: ParsedRequest | null = null;
    if (req.method === 'POST') {
      try {
        const badType = checkContentType(headerValue(req, 'content-type'));
        if (badType) throw badType;
        parsed = parseMcpBody({ body: Buffer.isBuffer(req.body) ? (req.body as Buffer) : Buffer.alloc(0), mcpMethod: headerValue(req, 'mcp-method'), mcpName: headerValue(req, 'mcp-name') });
      } catch (err) {
        if (!(err instanceof McpRequestError)) throw err;
        await (earlyLimit ?? checkRateLimits(kv, principal, org.rateLimits, now()));
        audit.write({ time: new Date(now()).toISOString(), org: org.name, user: principal.username, client: principal.clientId, tool: '(unparsed)', cluster: urlCluster.name, outcome: 'rejected', status: err.status, durationMs: 0, requestId, reason: err.message });
        return sendJsonRpcError(res, err);
      }
    }
    const body = parsed?.forwardBody;

    // The cluster this request acts on: arguments.cluster when a call names one, else the URL's. Credentials,
    // policy and the worker's x-kmg-cluster header all follow it.
    const pinned = pinCluster(org, urlCluster, explicitCluster, parsed);
    if (!pinned.ok) {
      for (const call of parsed?.calls ?? []) writeAudit({ org: org.name, principal, cluster: call.cluster ?? urlCluster.name, requestId, started: now() }, call, 'rejected', pinned.error?.status ?? 200);
      if (pinned.error) return sendJsonRpcError(res, pinned.error, parsed?.firstId ?? null);
      return void res.status(200).json({ jsonrpc: '2.0', id: parsed!.firstId, result: { content: [{ type: 'text', text: pinned.toolError }], isError: true } });
    }
    const cluster = pinned.cluster;

    const limited = await (earlyLimit ?? checkRateLimits(kv, principal, org.rateLimits, now()));
    if (limited.limited) {
      auditCalls(parsed, { org: org.name, principal, cluster: cluster.name, requestId, started: now() }, 'rate_limited', 429);
      res.setHeader('Retry-After', String(limited.retryAfterSeconds));
      return void res.status(429).json({ jsonrpc: '2.0', id: firstId(parsed), error: { code: -32000, message: `rate limit for this ${limited.who} exceeded; retry in ${limited.retryAfterSeconds}s` } });
    }

    const clusterKey = `${org.name}/${cluster.name}`;
    const pool = pools.get(clusterKey)!;
    const started = now();
    const calls = parsed?.calls ?? [];

    // Credentials for the worker: resolved before policy needs the catalog (which may ask a worker).
    let credential: string;
    try {
      credential = await credentialFor(principal, res.locals.token as string, org, cluster);
    } catch (err) {
      const outcome = err instanceof ExchangeUnavailableError ? 'unavailable' : 'rejected';
      auditCalls(parsed, { org: org.name, principal, cluster: cluster.name, requestId, started }, outcome, err instanceof InvalidTokenError ? 401 : 503);
      if (err instanceof InvalidTokenError) return bearerChallenge(res, s, err);
      if (err instanceof ExchangeUnavailableError) {
        logger.warn({ requestId, err: err.message }, 'token exchange unavailable');
        res.setHeader('Retry-After', String(err.retryAfterSeconds));
        return void res.status(503).json({ jsonrpc: '2.0', id: firstId(parsed), error: { code: -32000, message: 'identity provider unavailable; retry later' } });
      }
      if (err instanceof IdentityRefusedError) {
        logger.warn({ requestId, user: principal.username, cluster: cluster.name }, err.message);
        return void res.status(403).json({ jsonrpc: '2.0', id: firstId(parsed), error: { code: -32000, message: err.message } });
      }
      if (err instanceof ExchangeRefusedError) {
        logger.error({ requestId, err: err.message }, 'token exchange refused');
        return void res.status(502).json({ jsonrpc: '2.0', id: firstId(parsed), error: { code: -32000, message: 'the identity provider refused to issue a token for this cluster' } });
      }
      throw err;
    }

    // Policy for each tool call in the body (scopes, read-only org, allow/deny lists).
    for (const call of calls) {
      let info = catalog.lookup(clusterKey, call.name);
      if (!info) {
        await loadCatalog(pool, cluster, clusterKey, credential, requestId, req, parsed!).catch((err: unknown) => logger.warn({ err, requestId }, 'tool catalog fetch failed'));
        info = catalog.lookup(clusterKey, call.name);
      }
      const decision = decideTool(call.name, info, principal, org.policy);
      if (!decision.allowed) {
        writeAudit({ org: org.name, principal, cluster: cluster.name, requestId, started }, call, decision.reason === 'insufficient_scope' ? 'insufficient_scope' : 'denied', 403);
        if (decision.reason === 'insufficient_scope') return bearerChallenge(res, s, new InvalidTokenError('invalid', decision.message), decision.scope);
        return void res.status(200).json({ jsonrpc: '2.0', id: call.id, error: { code: JsonRpcCode.InvalidParams, message: decision.message } });
      }
    }

    // A 2025-era initialize opens a gateway session; the worker stays stateless.
    const init = parsed && !parsed.batch ? parsed.messages[0] : undefined;
    const requested = typeof init?.params?.protocolVersion === 'string' ? init.params.protocolVersion : undefined;
    let newSession: string | undefined;
    if (init?.method === 'initialize' && sessionId === undefined && (!requested || requested < FIRST_STATELESS_REVISION)) {
      newSession = await sessions.open(principal, org.sessionTtlSeconds, requested);
      live?.seen(newSession, org.sessionTtlSeconds);
    }

    const target = pool.pick();
    if (!target) return void res.status(502).json({ jsonrpc: '2.0', id: firstId(parsed), error: { code: -32603, message: 'no worker for this cluster' } });
    const listIds = new Set((parsed?.messages ?? []).filter((m) => m.method === 'tools/list').map((m) => m.id));
    let status = 0;
    const state: ForwardState = {
      pool,
      credential,
      requestId,
      cluster: cluster.name,
      traceparent: traceparentFor(req),
      body,
      mayHaveRun: calls.length > 0,
      target,
      tried: new Set(),
      keepAliveMs: config.mcp.keepAliveMs,
      ...(newSession ? { responseHeaders: { 'Mcp-Session-Id': newSession } } : {}),
      onResponse: (st) => {
        status = st;
        if (newSession && st >= 300) {
          live?.ended(newSession);
          void sessions.end(newSession);
        }
      },
      ...(listIds.size
        ? {
            rewrite: (text: string, ct: string | undefined) =>
              rewriteMessages(text, ct, (m) => {
                if (!listIds.has(m.id) || !Array.isArray(m.result?.tools)) return m;
                const tools = m.result.tools as ToolInfo[];
                catalog.learn(clusterKey, tools);
                return { ...m, result: { ...m.result, tools: filterTools(tools, principal, org.policy) } };
              }),
          }
        : {}),
    };
    (req as Request & { kmg?: ForwardState }).kmg = state;
    if (calls.length) {
      res.once('close', () => {
        const outcome: AuditRecord['outcome'] = !res.writableFinished ? 'aborted' : state.unreachable ? 'upstream_error' : status >= 400 ? 'upstream_error' : state.tap?.toolError ? 'tool_error' : 'ok';
        for (const call of calls) writeAudit({ org: org.name, principal, cluster: cluster.name, requestId, started }, call, outcome, status || res.statusCode);
      });
    }
    const acceptsSse = String(req.headers.accept ?? '').includes('text/event-stream');
    if (!state.rewrite && calls.length === 1 && !parsed!.batch && acceptsSse) {
      state.upgradeToSse = true;
      state.jsonRpcId = parsed!.messages[0]!.id ?? null;
    }
    await (state.rewrite ? forward.rewrite : state.upgradeToSse ? forward.upgrade : forward.stream)(req, res, () => undefined);
  }

  /** The credential the worker gets for this cluster: an exchanged token, or a signed identity assertion. */
  async function credentialFor(principal: Principal, clientToken: string, org: OrgConfig, cluster: ClusterConfig): Promise<string> {
    if (cluster.identity === 'worker') return '';
    if (cluster.identity === 'impersonation') return (await signer).sign(principal, cluster, cluster.audience);
    const exchange = exchangeFor(org, cluster);
    // The client's own token is only ever a subject token at Keycloak, never forwarded.
    const subject = org.mode === 'resource-server' ? async () => clientToken : () => deps.upstream.subjectToken(principal);
    return exchanger.tokenFor(principal, { audience: cluster.audience, scopes: cluster.exchangeScopes, exchange }, subject);
  }

  /** Asks a worker for tools/list with the caller's protocol headers, to learn annotations before admitting a call. */
  async function loadCatalog(pool: WorkerPool, cluster: ClusterConfig, clusterKey: string, credential: string, requestId: string, req: Request, parsed: ParsedRequest): Promise<void> {
    const target = pool.pick();
    if (!target) return;
    const meta = parsed.messages.find((m) => m.params?._meta)?.params?._meta;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'x-request-id': requestId,
      'x-kmg-cluster': cluster.name,
    };
    if (credential) headers.authorization = `Bearer ${credential}`;
    const version = headerValue(req, 'mcp-protocol-version');
    if (version) headers['mcp-protocol-version'] = version;
    if (headerValue(req, 'mcp-method')) headers['mcp-method'] = 'tools/list';
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const body: JsonRpcMessage = { jsonrpc: '2.0', id: `gw-catalog-${page}`, method: 'tools/list', params: { ...(meta ? { _meta: meta } : {}), ...(cursor ? { cursor } : {}) } };
      const r = await fetch(target + pool.mcpPath(target), { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
      const text = await r.text();
      let next: string | undefined;
      rewriteMessages(text, r.headers.get('content-type') ?? undefined, (m) => {
        if (Array.isArray(m.result?.tools)) catalog.learn(clusterKey, m.result.tools as ToolInfo[]);
        if (typeof m.result?.nextCursor === 'string') next = m.result.nextCursor;
        return m;
      });
      if (!next) return;
      cursor = next;
    }
  }

  // GET on a gateway session: the workers are stateless and never push outside a request, so the stream
  // carries keep-alive comments until the client leaves or the session ends.
  const localStreams = new Map<string, Set<Response>>();
  function openSessionStream(_req: Request, res: Response, sessionId: string): void {
    res.status(200);
    res.setHeader('content-type', 'text/event-stream');
    res.setHeader('cache-control', 'no-cache, no-transform');
    res.setHeader('x-accel-buffering', 'no');
    res.flushHeaders();
    let set = localStreams.get(sessionId);
    if (!set) localStreams.set(sessionId, (set = new Set()));
    set.add(res);
    const timer = setInterval(() => {
      void sessions.exists(sessionId).then((alive) => (alive ? res.write(': keep-alive\n\n') : res.end()), () => undefined);
    }, config.mcp.keepAliveMs);
    timer.unref();
    res.on('close', () => {
      clearInterval(timer);
      set.delete(res);
      if (!set.size) localStreams.delete(sessionId);
    });
  }
  function closeLocalStreams(sessionId: string): void {
    for (const r of localStreams.get(sessionId) ?? []) r.end();
  }

  interface AuditCtx {
    org: string;
    principal: Principal;
    cluster: string;
    requestId: string;
    started: number;
  }
  function writeAudit(ctx: AuditCtx, call: { name: string; namespace?: string }, outcome: AuditRecord['outcome'], status: number): void {
    audit.write({
      time: new Date(ctx.started).toISOString(),
      org: ctx.org,
      user: ctx.principal.username,
      client: ctx.principal.clientId,
      tool: call.name,
      cluster: ctx.cluster,
      ...(call.namespace ? { namespace: call.namespace } : {}),
      outcome,
      status,
      durationMs: now() - ctx.started,
      requestId: ctx.requestId,
    });
  }
  function auditCalls(parsed: ParsedRequest | null, ctx: AuditCtx, outcome: AuditRecord['outcome'], status: number): void {
    for (const call of parsed?.calls ?? []) writeAudit(ctx, call, outcome, status);
  }

  return router;
}

/** The exchange settings for a bearer cluster: its own, the org's, or the org's Keycloak client (gateway mode). */
export function exchangeFor(org: OrgConfig, cluster: ClusterConfig): ExchangeConfig {
  const cfg = cluster.exchange ?? org.exchange;
  if (cfg) return cfg;
  const kc = org.oauth?.keycloak;
  if (!kc) throw new Error(`cluster ${cluster.name} of org ${org.name} has no exchange settings`);
  return {
    strategy: 'keycloak-standard',
    tokenEndpoint: `${kc.issuer.replace(/\/+$/, '')}/protocol/openid-connect/token`,
    clientId: kc.clientId,
    clientSecret: kc.clientSecret,
    ...(kc.caFile ? { caFile: kc.caFile } : {}),
    timeoutMs: 5000,
    refreshSkewSeconds: 30,
  };
}

function headerValue(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function firstId(parsed: ParsedRequest | null): JsonRpcId {
  return parsed?.firstId ?? null;
}

type Pinned = { ok: true; cluster: ClusterConfig } | { ok: false; error?: McpRequestError; toolError?: string };

/**
 * The cluster a request acts on. A tools/call may name one in `arguments.cluster`: it must be one of the org's
 * clusters, and on a `/clusters/{name}` URL the one the URL names. Gateway cluster names are the workers' cluster
 * names, so the worker can check `x-kmg-cluster` against the call. A single call naming a cluster the gateway does
 * not serve gets a tool error (MCP: bad input is a tool execution error); a batch whose calls disagree is refused.
 */
export function pinCluster(org: OrgConfig, urlCluster: ClusterConfig, explicit: boolean, parsed: ParsedRequest | null): Pinned {
  const named = new Set((parsed?.calls ?? []).map((c: ToolCall) => c.cluster ?? urlCluster.name));
  if (named.size === 0) return { ok: true, cluster: urlCluster };
  const known = org.clusters.map((c) => c.name);
  const problem = (name: string): string | undefined => {
    if (!known.includes(name)) return `unknown cluster "${name}"; this organisation's clusters are: ${known.join(', ')}`;
    if (explicit && name !== urlCluster.name) return `this MCP URL serves cluster "${urlCluster.name}"; call cluster "${name}" at its own URL (…/mcp/clusters/${name}) or at the organisation's MCP URL`;
    return undefined;
  };
  if (named.size > 1) return { ok: false, error: new McpRequestError(400, JsonRpcCode.InvalidParams, 'the tool calls of one request must address one cluster') };
  const name = [...named][0]!;
  const why = problem(name);
  if (why) return parsed!.batch ? { ok: false, error: new McpRequestError(400, JsonRpcCode.InvalidParams, why) } : { ok: false, toolError: why };
  return { ok: true, cluster: org.clusters.find((c) => c.name === name)! };
}

/** Continues the caller's W3C trace when it sent a valid traceparent, else starts one. */
function traceparentFor(req: Request): string {
  const incoming = headerValue(req, 'traceparent');
  if (incoming && /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(incoming)) {
    return `00-${incoming.slice(3, 35)}-${randomBytes(8).toString('hex')}-${incoming.slice(-2)}`;
  }
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

export type { McpOrgConfig };
