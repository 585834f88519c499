import { Router, urlencoded, type Request, type Response } from 'express';
import type { Site } from '../http/sites.js';
import { OAuthError, oauthHandler, sendOAuthError } from './errors.js';
import { oauthConfig, rateLimit, type OAuthContext } from './context.js';
import { authenticateClient, formBody } from './client-auth.js';
import { pkceMatches } from './tokens.js';
import { checkResource } from './authorize.js';
import { UpstreamRefusedError } from './keycloak.js';
import type { OAuthClient } from './clients.js';
import { GrantStore, type Grant } from './grants.js';
import { InvalidTokenError } from '../auth/principal.js';

const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** POST /token: authorization_code and refresh_token grants (OAuth 2.1 §4.1.3, §4.3). */
export function tokenRouter(ctx: OAuthContext, site: Site): Router {
  const cfg = oauthConfig(site);
  const life = cfg.tokens;
  const router = Router();
  router.use('/token', urlencoded({ extended: false, limit: ctx.config.bodyLimit }));
  router.all('/token', (req, res, next) => {
    if (req.method === 'POST') return next();
    res.setHeader('Allow', 'POST');
    sendOAuthError(req, res, new OAuthError('invalid_request', 'use POST', { status: 405 }));
  });

  const authorizationCode = async (client: OAuthClient, body: Record<string, string>) => {
    const { code, code_verifier: verifier, redirect_uri: redirectUri } = body;
    if (!code) throw new OAuthError('invalid_request', 'code is required');
    if (!verifier) throw new OAuthError('invalid_request', 'code_verifier is required (PKCE)');
    if (!VERIFIER.test(verifier)) throw new OAuthError('invalid_request', 'code_verifier must be 43-128 unreserved characters');
    const taken = await ctx.grants.redeemCode(code);
    if (!('rec' in taken)) {
      throw new OAuthError('invalid_grant', taken.replayed ? 'authorization code was already used; the tokens it issued are revoked' : 'authorization code is invalid or expired');
    }
    const rec = taken.rec;
    const fail = async (why: string) => {
      await ctx.grants.revoke(rec.gid);
      return new OAuthError('invalid_grant', why);
    };
    if (rec.clientId !== client.client_id) throw await fail('authorization code was issued to another client');
    if (redirectUri !== undefined && redirectUri !== rec.redirectUri) {
      throw await fail('redirect_uri differs from the authorization request');
    }
    if (!pkceMatches(verifier, rec.codeChallenge)) throw await fail('code_verifier does not match the code_challenge');
    if (body.resource !== undefined && checkResource(site, body.resource) !== rec.resource) throw await fail('resource differs from the authorization request');
    const activated = await ctx.grants.activate(rec.gid, life);
    if (!activated) throw new OAuthError('invalid_grant', 'authorization code is invalid, expired or revoked');
    await ctx.clients.markUsed(site, client);
    return activated.tokens;
  };

  const refreshToken = async (client: OAuthClient, body: Record<string, string>) => {
    if (!body.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required');
    if (body.resource !== undefined) checkResource(site, body.resource);
    if (body.scope !== undefined) {
      const asked = body.scope.split(' ').filter(Boolean);
      if (asked.length === 0) throw new OAuthError('invalid_scope', 'scope must not be empty');
      // Narrowing is checked against the grant below; here only unknown scopes.
      const unknown = asked.find((s) => !(cfg.scopes as string[]).includes(s));
      if (unknown) throw new OAuthError('invalid_scope', `scope ${unknown} is not offered here`);
    }
    const check = (g: Grant) => {
      if (g.clientId !== client.client_id) throw new OAuthError('invalid_grant', 'refresh token was issued to another client');
      if (g.org !== site.org.name || g.base !== site.base) throw new OAuthError('invalid_grant', 'refresh token was issued by another issuer');
      const wider = body.scope?.split(' ').filter(Boolean).find((s) => !g.scopes.includes(s));
      if (wider) throw new OAuthError('invalid_scope', `scope ${wider} exceeds the original grant`);
    };
    const narrowTo = body.scope ? [...new Set(body.scope.split(' ').filter(Boolean))] : undefined;
    // The gateway grant lives only as long as the user's Keycloak session: check that first, before the
    // family rotates, so an identity-provider outage fails this request without consuming the token.
    const gid = GrantStore.grantIdOfRefresh(body.refresh_token);
    const grant = gid ? await ctx.grants.get(gid) : null;
    if (grant?.active && grant.clientId === client.client_id) {
      try {
        await ctx.freshUpstream(grant.id);
      } catch (e) {
        if (e instanceof UpstreamRefusedError) {
          await ctx.grants.revoke(grant.id);
          throw new OAuthError('invalid_grant', 'the sign-in session at the identity provider has ended');
        }
        if (e instanceof InvalidTokenError) throw new OAuthError('invalid_grant', 'refresh token is invalid, expired or revoked');
        throw e;
      }
    }
    const out = await ctx.grants.rotate(body.refresh_token, life, check, narrowTo);
    if (!out.ok) {
      throw new OAuthError('invalid_grant', out.reason === 'reused' ? 'refresh token was already used; the grant is revoked' : 'refresh token is invalid, expired or revoked');
    }
    await ctx.clients.markUsed(site, client);
    return out.tokens;
  };

  router.post(
    '/token',
    oauthHandler(async (req: Request, res: Response) => {
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Pragma', 'no-cache');
      const body = formBody(req);
      // Keyed on the address only: client_id is the caller's choice, and a new one must not buy a new bucket
      // (nor, for an https id, another metadata-document fetch).
      await rateLimit(ctx, 'token', `${site.org.name}:${req.ip}`, req);
      const grantType = body.grant_type;
      if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
      if (grantType !== 'authorization_code' && grantType !== 'refresh_token') throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
      const client = await authenticateClient(ctx, site, req, body);
      if (!client.grant_types.includes(grantType)) throw new OAuthError('unauthorized_client', `client may not use grant_type ${grantType}`);
      const tokens = grantType === 'authorization_code' ? await authorizationCode(client, body) : await refreshToken(client, body);
      res.status(200).json(tokens);
    }),
  );
  return router;
}
