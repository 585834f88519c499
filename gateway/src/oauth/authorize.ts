import { Router, type Request, type Response } from 'express';
import * as oidc from 'openid-client';
import type { Site } from '../http/sites.js';
import { readCookie, setLoginCookie } from '../http/cookies.js';
import { OAuthError, toOAuthError } from './errors.js';
import { UnavailableError } from '../http/unavailable.js';
import { redirectUriMatches } from './redirect-uri.js';
import { oauthConfig, rateLimit, type OAuthContext } from './context.js';
import { hashToken, randomToken, safeEqual } from './tokens.js';
import { sendErrorPage } from './pages.js';
import type { OAuthClient } from './clients.js';
import type { UpstreamTokens, UpstreamUser } from './keycloak.js';
import type { Sealer } from '../crypto/seal.js';

/** A login in progress: the client's request plus what we need to finish Keycloak's half. */
export interface LoginTransaction {
  id: string;
  base: string;
  clientId: string;
  clientName?: string;
  /** How the gateway knows the client: only a configured client's name was checked by anyone. */
  clientSource?: OAuthClient['source'];
  redirectUri: string;
  state?: string;
  codeChallenge: string;
  scopes: string[];
  resource: string;
  browserHash: string;
  kcVerifier: string;
  kcNonce: string;
}

const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
export const loginCookieName = (txId: string) => `kmg_login_${txId.slice(0, 16)}`;

function one(q: unknown): string | undefined {
  if (typeof q === 'string') return q;
  if (Array.isArray(q)) throw new OAuthError('invalid_request', 'parameters must not repeat');
  return undefined;
}

/** Sends the user-agent back to the client (RFC 6749 §4.1.2 / RFC 9207 `iss`). */
export function redirectToClient(res: Response, site: Site, redirectUri: string, params: Record<string, string | undefined>, status: 302 | 303 = 302): void {
  const u = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  u.searchParams.set('iss', site.issuer);
  res.setHeader('Cache-Control', 'no-store');
  res.redirect(status, u.href);
}

export function parseScopes(site: Site, client: OAuthClient, requested: string | undefined): string[] {
  const offered = oauthConfig(site).scopes as string[];
  const allowed = client.scope ? client.scope.split(' ').filter((s) => offered.includes(s)) : offered;
  if (requested === undefined || requested.trim() === '') return allowed;
  const asked = [...new Set(requested.split(' ').filter(Boolean))];
  const unknown = asked.find((s) => !allowed.includes(s));
  if (unknown) throw new OAuthError('invalid_scope', `scope ${unknown} is not available to this client`);
  return asked;
}

/** RFC 8707: the only resource a token can be for is this site's MCP URL; omitted means that URL. */
export function checkResource(site: Site, resource: string | undefined): string {
  if (resource === undefined) return site.mcpUrl;
  const norm = (s: string) => s.replace(/\/+$/, '');
  if (norm(resource) !== norm(site.mcpUrl)) throw new OAuthError('invalid_target', `resource must be ${site.mcpUrl}`);
  return site.mcpUrl;
}

/**
 * GET /authorize with the SDK's two error phases: until client_id and redirect_uri are known good, errors
 * are an HTML page (never a redirect to an unverified URI); after, a redirect carrying error, state and iss.
 */
export function authorizeRouter(ctx: OAuthContext, site: Site, sealer: Sealer): Router {
  const router = Router();
  const cfg = oauthConfig(site);
  const secureCookies = site.issuer.startsWith('https://');

  router.get('/authorize', async (req: Request, res: Response) => {
    let client: OAuthClient | null;
    let redirectUri: string;
    // Phase 1: nothing is redirected.
    try {
      await rateLimit(ctx, 'authorize', `${site.org.name}:${req.ip}`, req);
      const clientId = one(req.query.client_id);
      if (!clientId) throw new OAuthError('invalid_request', 'client_id is required');
      client = await ctx.clients.find(site, clientId);
      if (!client) throw new OAuthError('invalid_client', 'unknown client_id');
      const asked = one(req.query.redirect_uri);
      if (asked === undefined) {
        if (client.redirect_uris.length !== 1) throw new OAuthError('invalid_request', 'redirect_uri is required');
        redirectUri = client.redirect_uris[0]!;
      } else if (!redirectUriMatches(client.redirect_uris, asked)) {
        throw new OAuthError('invalid_request', 'redirect_uri does not match a registered redirect URI');
      } else redirectUri = asked;
    } catch (e) {
      const err = toOAuthError(e);
      if (err.status >= 500) req.log?.error({ err: e }, 'authorize failed');
      if (err.retryAfter) res.setHeader('Retry-After', String(err.retryAfter));
      return sendErrorPage(res, err.status === 401 ? 400 : err.status, err.code, err.description);
    }

    // Phase 2: errors go back to the client.
    let state: string | undefined;
    try {
      state = one(req.query.state);
      if (one(req.query.response_type) !== 'code') throw new OAuthError('unsupported_response_type', 'response_type must be code');
      const challenge = one(req.query.code_challenge);
      const method = one(req.query.code_challenge_method);
      if (!challenge) throw new OAuthError('invalid_request', 'code_challenge is required (PKCE)');
      if (method !== 'S256') throw new OAuthError('invalid_request', 'code_challenge_method must be S256');
      if (!PKCE_CHALLENGE.test(challenge)) throw new OAuthError('invalid_request', 'code_challenge must be 43 base64url characters');
      const scopes = parseScopes(site, client, one(req.query.scope));
      const resource = checkResource(site, one(req.query.resource));

      const id = randomToken();
      const browser = randomToken();
      const kcVerifier = oidc.randomPKCECodeVerifier();
      const tx: LoginTransaction = {
        id,
        base: site.base,
        clientId: client.client_id,
        clientName: client.client_name,
        clientSource: client.source,
        redirectUri,
        state,
        codeChallenge: challenge,
        scopes,
        resource,
        browserHash: hashToken(browser),
        kcVerifier,
        kcNonce: oidc.randomNonce(),
      };
      await ctx.kv.set(`tx:${id}`, sealer.seal(JSON.stringify(tx), `tx:${id}`), cfg.loginTtlSeconds);
      const url = await ctx.idp(site).authorizationUrl({
        redirectUri: `${site.issuer}/callback`,
        state: id,
        nonce: tx.kcNonce,
        codeChallenge: await oidc.calculatePKCECodeChallenge(kcVerifier),
      });
      setLoginCookie(res, loginCookieName(id), browser, { path: site.base || '/', secure: secureCookies, maxAgeSeconds: cfg.loginTtlSeconds });
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(302, url.href);
    } catch (e) {
      // Keycloak unreachable (discovery) or the store gone: temporarily_unavailable, the client may retry.
      const err = e instanceof OAuthError || e instanceof UnavailableError ? toOAuthError(e) : new OAuthError('temporarily_unavailable', 'the identity provider is unavailable', { cause: e });
      if (err.status >= 500) req.log?.error({ err: e }, 'authorize failed');
      redirectToClient(res, site, redirectUri, { error: err.code, error_description: err.description, state });
    }
  });
  return router;
}

/** Reads and deletes a login transaction (single use), checking the browser that started it presents its cookie. */
export async function takeTransaction(ctx: OAuthContext, sealer: Sealer, req: Request, id: string): Promise<LoginTransaction | null> {
  const sealed = await ctx.kv.getDel(`tx:${id}`);
  if (!sealed) return null;
  const tx = JSON.parse(sealer.open(sealed, `tx:${id}`)) as LoginTransaction;
  const cookie = readCookie(req, loginCookieName(id));
  if (!cookie || !safeEqual(hashToken(cookie), tx.browserHash)) return null;
  return tx;
}

/** Approved (now or remembered): create the pending grant and hand the client its code. */
export async function finishLogin(ctx: OAuthContext, site: Site, res: Response, tx: LoginTransaction, user: UpstreamUser, upstream: UpstreamTokens, status: 302 | 303 = 302): Promise<void> {
  const cfg = oauthConfig(site);
  const codeTtl = cfg.tokens.authorizationCodeTtlSeconds;
  const grant = await ctx.grants.createPending(
    { org: site.org.name, base: site.base, clientId: tx.clientId, user, scopes: tx.scopes, resource: tx.resource },
    upstream,
    codeTtl + 60,
  );
  const code = await ctx.grants.issueCode(
    { gid: grant.id, clientId: tx.clientId, redirectUri: tx.redirectUri, codeChallenge: tx.codeChallenge, resource: tx.resource, scopes: tx.scopes },
    codeTtl,
  );
  res.clearCookie(loginCookieName(tx.id), { path: site.base || '/' });
  redirectToClient(res, site, tx.redirectUri, { code, state: tx.state }, status);
}
