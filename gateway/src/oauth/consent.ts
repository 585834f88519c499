import { Router, urlencoded, type ErrorRequestHandler, type Request, type Response } from 'express';
import type { Site } from '../http/sites.js';
import { UnavailableError } from '../http/unavailable.js';
import type { Sealer } from '../crypto/seal.js';
import { SealedRecords } from '../store/sealed.js';
import { readCookie } from '../http/cookies.js';
import { oauthConfig, type OAuthContext } from './context.js';
import { finishLogin, loginCookieName, redirectToClient, takeTransaction, type LoginTransaction } from './authorize.js';
import { escapeHtml, sendErrorPage, sendPage } from './pages.js';
import { hashToken, randomToken, safeEqual } from './tokens.js';
import type { UpstreamTokens, UpstreamUser } from './keycloak.js';

interface PendingConsent {
  tx: LoginTransaction;
  user: UpstreamUser;
  upstream: UpstreamTokens;
  csrf: string;
}

const SCOPE_TEXT: Record<string, string> = {
  'mcp:tools:read': 'Use read-only Kubernetes tools as you (list, get, describe, logs)',
  'mcp:tools:write': 'Use Kubernetes tools that change things as you (apply, patch, scale, delete, exec)',
};

/**
 * Who is asking, as far as the gateway can vouch: a configured client's name was set by an administrator; any
 * other name is the client's own claim, so it is marked unverified, and a metadata-document client also shows the
 * host that published its client_id (the one thing the fetch proved).
 */
export function clientLabel(tx: Pick<LoginTransaction, 'clientId' | 'clientName' | 'clientSource'>): string {
  if (tx.clientSource === 'configured' && tx.clientName) return escapeHtml(tx.clientName);
  const id = `<code>${escapeHtml(tx.clientId.slice(0, 80))}</code>`;
  const name = tx.clientName ? `“${escapeHtml(tx.clientName)}” <em>(unverified name)</em>` : 'an application';
  if (tx.clientSource === 'metadata-document') {
    let host = '';
    try {
      host = new URL(tx.clientId).host;
    } catch {
      /* not a URL: the id itself is shown */
    }
    return `${name} from <strong>${host ? escapeHtml(host) : id}</strong>`;
  }
  return `${name} (client ${id})`;
}

const rememberKey = (site: Site, sub: string, clientId: string) => `consent:${site.org.name}:${hashToken(`${sub}\n${clientId}`)}`;

/** Remembered approvals are sealed like everything else that lets a login skip a step. */
async function remembered(records: SealedRecords, site: Site, sub: string, clientId: string, scopes: string[]): Promise<boolean> {
  const approved = await records.get<string[]>(rememberKey(site, sub, clientId));
  return approved !== null && scopes.every((s) => approved.includes(s));
}

/**
 * GET /callback (back from Keycloak) and the consent page (GET shows, POST decides). Both bind to the
 * browser that started the login (cookie) and the form carries a CSRF token; the decision is single use.
 */
export function consentRouter(ctx: OAuthContext, site: Site, sealer: Sealer): Router {
  const router = Router();
  const cfg = oauthConfig(site);
  const records = new SealedRecords(ctx.kv, sealer);

  router.get('/callback', async (req: Request, res: Response) => {
    const state = typeof req.query.state === 'string' ? req.query.state : '';
    const tx = state ? await takeTransaction(ctx, sealer, req, state).catch(nullUnlessUnavailable) : null;
    if (!tx || tx.base !== site.base) return sendErrorPage(res, 400, 'invalid_request', 'This sign-in has expired or was started in another browser.');
    if (typeof req.query.error === 'string') {
      return redirectToClient(res, site, tx.redirectUri, { error: req.query.error === 'access_denied' ? 'access_denied' : 'server_error', error_description: 'sign-in at the identity provider did not complete', state: tx.state });
    }
    let login: { user: UpstreamUser; tokens: UpstreamTokens };
    try {
      const currentUrl = new URL(`${site.issuer}/callback${req.originalUrl.slice(req.originalUrl.indexOf('?'))}`);
      login = await ctx.idp(site).callback({ currentUrl, state: tx.id, nonce: tx.kcNonce, codeVerifier: tx.kcVerifier });
    } catch (err) {
      req.log?.warn({ err }, 'identity provider login failed');
      // Keycloak unreachable: temporarily_unavailable (RFC 6749 §4.1.2.1), so the client offers a retry.
      if (err instanceof UnavailableError) return redirectToClient(res, site, tx.redirectUri, { error: 'temporarily_unavailable', error_description: 'the identity provider is unavailable; retry later', state: tx.state });
      return redirectToClient(res, site, tx.redirectUri, { error: 'server_error', error_description: 'sign-in at the identity provider failed', state: tx.state });
    }
    const client = await ctx.clients.find(site, tx.clientId).catch(nullUnlessUnavailable);
    if (!client) return sendErrorPage(res, 400, 'invalid_client', 'The application is no longer registered.');
    if (client.skipConsent || (await remembered(records, site, login.user.sub, tx.clientId, tx.scopes))) {
      return finishLogin(ctx, site, res, tx, login.user, login.tokens);
    }
    const id = randomToken();
    const pending: PendingConsent = { tx, user: login.user, upstream: login.tokens, csrf: randomToken() };
    await ctx.kv.set(`consent-pending:${id}`, sealer.seal(JSON.stringify(pending), `consent:${id}`), cfg.loginTtlSeconds);
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, `${site.issuer}/consent?id=${encodeURIComponent(id)}&tx=${encodeURIComponent(tx.id)}`);
  });

  const load = async (req: Request, id: string, txId: string, take: boolean): Promise<PendingConsent | null> => {
    if (!id || !txId) return null;
    const key = `consent-pending:${id}`;
    const sealed = take ? await ctx.kv.getDel(key) : await ctx.kv.get(key);
    if (!sealed) return null;
    const p = JSON.parse(sealer.open(sealed, `consent:${id}`)) as PendingConsent;
    const cookie = readCookie(req, loginCookieName(txId));
    if (p.tx.id !== txId || p.tx.base !== site.base || !cookie || !safeEqual(hashToken(cookie), p.tx.browserHash)) return null;
    return p;
  };

  router.get('/consent', async (req: Request, res: Response) => {
    const id = typeof req.query.id === 'string' ? req.query.id : '';
    const txId = typeof req.query.tx === 'string' ? req.query.tx : '';
    const p = await load(req, id, txId, false).catch(nullUnlessUnavailable);
    if (!p) return sendErrorPage(res, 400, 'invalid_request', 'This consent request has expired or belongs to another browser.');
    const redirect = new URL(p.tx.redirectUri);
    const who = clientLabel(p.tx);
    const scopes = p.tx.scopes.map((s) => `<li><strong>${escapeHtml(s)}</strong>: ${escapeHtml(SCOPE_TEXT[s] ?? s)}</li>`).join('');
    sendPage(
      res,
      200,
      'Allow access?',
      `<h1 id="title">Allow ${who} to access Kubernetes as ${escapeHtml(p.user.username)}?</h1>
<p>The application will be sent back to <strong>${escapeHtml(redirect.host || redirect.protocol)}</strong> and will be able to:</p>
<ul aria-label="Requested permissions">${scopes}</ul>
<p class="muted">Organisation: ${escapeHtml(site.org.name)}. What you can do in each cluster is still limited by your Kubernetes permissions. Your choice is remembered for this application.</p>
<form method="post" action="${escapeHtml(`${site.issuer}/consent`)}" aria-labelledby="title">
<input type="hidden" name="id" value="${escapeHtml(id)}"><input type="hidden" name="tx" value="${escapeHtml(txId)}">
<input type="hidden" name="csrf" value="${escapeHtml(p.csrf)}">
<div class="actions"><button class="primary" type="submit" name="decision" value="approve">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button></div></form>`,
      { formTargets: [redirect.protocol === 'http:' || redirect.protocol === 'https:' ? redirect.origin : redirect.protocol] },
    );
  });

  router.post('/consent', urlencoded({ extended: false, limit: '4kb' }), async (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : '');
    const p = await load(req, str('id'), str('tx'), true).catch(nullUnlessUnavailable);
    if (!p || !str('csrf') || !safeEqual(str('csrf'), p.csrf)) {
      return sendErrorPage(res, 403, 'invalid_request', 'This consent form has expired, was already used, or did not come from this page.');
    }
    if (str('decision') !== 'approve') {
      res.clearCookie(loginCookieName(p.tx.id), { path: site.base || '/' });
      return redirectToClient(res, site, p.tx.redirectUri, { error: 'access_denied', error_description: 'the user denied access', state: p.tx.state }, 303);
    }
    await records.set(rememberKey(site, p.user.sub, p.tx.clientId), p.tx.scopes, cfg.consent.rememberSeconds);
    await finishLogin(ctx, site, res, p.tx, p.user, p.upstream, 303);
  });
  router.use(unavailablePage);
  return router;
}

/** A record that is missing, tampered with or not this browser's reads as expired; a store that did not answer does not. */
function nullUnlessUnavailable(err: unknown): null {
  if (err instanceof UnavailableError) throw err;
  return null;
}

/**
 * The store did not answer mid sign-in: nothing was consumed, so the browser is told to reload (503 + Retry-After)
 * instead of that its sign-in expired.
 */
const unavailablePage: ErrorRequestHandler = (err: unknown, req, res, next) => {
  if (!(err instanceof UnavailableError) || res.headersSent) return next(err);
  req.log?.warn({ err: err.message }, 'dependency unavailable during sign-in');
  res.setHeader('Retry-After', String(err.retryAfterSeconds));
  sendErrorPage(res, 503, 'temporarily_unavailable', 'The sign-in service is briefly unavailable. Reload this page in a few seconds to continue.');
};
