import { randomBytes, randomUUID } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { ClusterConfig } from '../config/mcp.js';
import { defaultCluster } from '../config/mcp.js';
import type { OrgConfig } from '../config/schema.js';
import type { Site } from '../http/sites.js';
import { UnavailableError } from '../http/unavailable.js';
import { auditCalls, auditUnparsed, forwardOutcome } from './audit.js';
import { authenticate } from './authenticate.js';
import { bodyReader } from './body.js';
import { clusterStep } from './cluster.js';
import type { AuthenticatedContext, ClusterContext, CredentialContext, ParsedContext, RequestContext } from './context.js';
import { credentialStep } from './credentials.js';
import { isRefusal, JsonRpcCode, McpRequestError, refusalAudit, sendJsonRpcError, sendRefusal, type JsonRpcId } from './errors.js';
import type { ForwardMode } from './forward.js';
import { originStep } from './origin.js';
import { checkContentType, parseMcpBody } from './parse.js';
import { policyStep, toolListFilter } from './policy.js';
import { rateLimitStep } from './rate-limit.js';
import type { McpRuntime } from './runtime.js';
import { dropSession, openSessionFor, sessionStep } from './session.js';

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The MCP URL of every org, as a pipeline of named steps (each in its own module under mcp/):
 * origin → authenticate → read body → session → rate limit → parse once → cluster → credentials → policy →
 * forward → audit. Mounted by app.ts at `/orgs/{org}/mcp` (and `/mcp` for the single org) with `res.locals.site`
 * set; `{mcpUrl}/clusters/{name}` serves an org's other clusters with the same token. Wiring only.
 */
export function mcpRouter(rt: McpRuntime): Router {
  const router = Router({ mergeParams: true });
  const readBody = bodyReader(rt.config.mcp.maxBodyBytes);

  router.use(originStep(rt.config.publicUrl));

  // Public keys of identity assertions, for workers of impersonation clusters (assertion.jwksUrl).
  router.get('/identity/jwks.json', async (_req, res, next) => {
    try {
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.json((await rt.signer).jwks());
    } catch (err) {
      next(err);
    }
  });

  const serve = (pick: (req: Request, org: OrgConfig) => ClusterConfig | undefined, explicit: boolean) => (req: Request, res: Response, next: NextFunction) => {
    const site = res.locals.site as Site;
    const urlCluster = pick(req, site.org);
    if (!urlCluster) return sendJsonRpcError(res, new McpRequestError(404, JsonRpcCode.InvalidRequest, 'no such cluster in this organisation'));
    const ctx: RequestContext = {
      site,
      org: site.org,
      requestId: String(res.getHeader('x-request-id') ?? req.headers['x-request-id'] ?? randomUUID()),
      started: rt.now(),
      urlCluster,
      explicitCluster: explicit,
      sessionId: single(req.headers['mcp-session-id']),
    };
    rt.track(pipeline(rt, readBody, ctx, req, res)).catch(next);
  };
  router.all('/', serve((_req, org) => defaultCluster(org), false));
  router.all('/clusters/:cluster', serve((req, org) => org.clusters.find((c) => c.name === req.params.cluster), true));
  return router;
}

async function pipeline(rt: McpRuntime, readBody: ReturnType<typeof bodyReader>, base: RequestContext, req: Request, res: Response): Promise<void> {
  let authed: AuthenticatedContext | undefined;
  let parsed: ParsedContext | undefined;
  let cluster: ClusterContext | undefined;
  try {
    authed = { ...base, ...(await authenticate(rt, base, req.headers, req.rawHeaders)) };
    const body = await readBody(req, res);
    // The rate-limit counters go to the store together with the session lookup (one round trip, not two).
    const limit = rateLimitStep(rt, authed);
    limit.catch(() => undefined);
    if (await sessionStep(rt, authed, req.method, res)) return;
    parsed = { ...authed, parsed: req.method === 'POST' ? parseOnce(req, body) : null };
    await limit;
    cluster = { ...parsed, ...clusterStep(rt, parsed) };
    const ctx: CredentialContext = { ...cluster, credential: await credentialStep(rt, cluster) };
    await policyStep(rt, ctx, req.headers);
    await forwardStep(rt, ctx, req, res);
  } catch (caught) {
    const err = caught instanceof UnavailableError ? unavailable(caught) : caught;
    if (!authed || !isRefusal(err)) {
      if (!authed && isRefusal(err)) return sendRefusal(res, base.site, err, null);
      throw err;
    }
    const { outcome, status } = refusalAudit(err);
    if (parsed?.parsed) auditCalls(rt, authed, parsed.parsed.calls, cluster?.cluster.name, outcome, status);
    else if (!parsed && req.method === 'POST' && err instanceof McpRequestError && status !== 404) auditUnparsed(rt, authed, status, err.message);
    sendRefusal(res, base.site, err, parsed?.parsed?.firstId ?? null);
  }
}

/**
 * The store or the identity provider did not answer: 503 + Retry-After, whichever step needed it (token check,
 * session, rate limit, exchange). Fails closed: nothing is forwarded, and the client retries instead of signing in.
 */
function unavailable(err: UnavailableError): McpRequestError {
  return new McpRequestError(503, JsonRpcCode.ServerError, `${err.dependency} unavailable; retry later`, { 'Retry-After': String(err.retryAfterSeconds) }, 'unavailable');
}

/** Read-and-parse-once: what policy reads is what the worker gets. */
function parseOnce(req: Request, body: Buffer) {
  const badType = checkContentType(single(req.headers['content-type']));
  if (badType) throw badType;
  return parseMcpBody({ body, mcpMethod: single(req.headers['mcp-method']), mcpName: single(req.headers['mcp-name']) });
}

async function forwardStep(rt: McpRuntime, ctx: CredentialContext, req: Request, res: Response): Promise<void> {
  const newSession = await openSessionFor(rt, ctx);
  const target = ctx.pool.pick();
  if (!target) throw new McpRequestError(502, JsonRpcCode.InternalError, 'no worker for this cluster', {}, 'upstream_error');
  const calls = ctx.parsed?.calls ?? [];
  const rewrite = toolListFilter(rt, ctx);
  const acceptsSse = String(req.headers.accept ?? '').includes('text/event-stream');
  const mode: ForwardMode = rewrite ? 'rewrite' : calls.length === 1 && !ctx.parsed!.batch && acceptsSse ? 'upgrade' : 'stream';
  const outcome = await rt.forward.forward(req, res, {
    mode,
    pool: ctx.pool,
    target,
    credential: ctx.credential,
    requestId: ctx.requestId,
    cluster: ctx.cluster.name,
    traceparent: traceparentFor(single(req.headers.traceparent)),
    body: ctx.parsed?.forwardBody,
    mayHaveRun: calls.length > 0,
    ...(newSession ? { responseHeaders: { 'Mcp-Session-Id': newSession } } : {}),
    ...(rewrite ? { rewrite } : {}),
    jsonRpcId: ctx.parsed?.firstId ?? null,
    callIds: new Set<JsonRpcId>(calls.map((c) => c.id)),
  });
  if (newSession && outcome.status >= 300) dropSession(rt, newSession);
  if (calls.length) auditCalls(rt, ctx, calls, ctx.cluster.name, forwardOutcome(outcome), outcome.status);
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Continues the caller's W3C trace when it sent a valid traceparent, else starts one. */
function traceparentFor(incoming: string | undefined): string {
  if (incoming && TRACEPARENT.test(incoming)) return `00-${incoming.slice(3, 35)}-${randomBytes(8).toString('hex')}-${incoming.slice(-2)}`;
  const ids = randomBytes(24).toString('hex');
  return `00-${ids.slice(0, 32)}-${ids.slice(32)}-01`;
}
