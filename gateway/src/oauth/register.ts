import { Router, json, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Site } from '../http/sites.js';
import { OAuthError, oauthHandler } from './errors.js';
import { checkRedirectUri, offAllowList } from './redirect-uri.js';
import { oauthConfig, rateLimit, type OAuthContext } from './context.js';
import { hashToken, randomToken, safeEqual } from './tokens.js';
import type { OAuthClient } from './clients.js';

const registrationSchema = z.object({
  redirect_uris: z.array(z.string()).min(1, 'redirect_uris must list at least one URI'),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
  grant_types: z.array(z.string()).default(['authorization_code', 'refresh_token']),
  response_types: z.array(z.string()).default(['code']),
  client_name: z.string().max(200).optional(),
  client_uri: z.string().max(2000).optional(),
  logo_uri: z.string().max(2000).optional(),
  scope: z.string().max(1000).optional(),
  software_id: z.string().max(200).optional(),
  software_version: z.string().max(100).optional(),
});

/** RFC 7591 dynamic client registration with the org's policy. */
export function registerHandler(ctx: OAuthContext, site: Site): Router {
  const cfg = oauthConfig(site);
  const router = Router();
  router.use(json({ limit: ctx.config.bodyLimit, type: () => true }));
  router.post(
    '/',
    oauthHandler(async (req: Request, res: Response) => {
      res.setHeader('Cache-Control', 'no-store');
      await rateLimit(ctx, 'register', `${site.org.name}:${req.ip}`, req);
      const policy = cfg.registration;
      if (policy.policy === 'initial-access-token') {
        const auth = req.headers.authorization ?? '';
        const presented = auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
        if (!presented || !policy.initialAccessTokens.some((t) => safeEqual(t, presented))) {
          throw new OAuthError('invalid_token', 'registration needs a valid initial access token');
        }
      }
      if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) throw new OAuthError('invalid_client_metadata', 'body must be a JSON object');
      const parsed = registrationSchema.safeParse(req.body);
      if (!parsed.success) {
        const first = parsed.error.issues[0]!;
        const code = first.path[0] === 'redirect_uris' ? 'invalid_redirect_uri' : 'invalid_client_metadata';
        throw new OAuthError(code, `${first.path.join('.') || 'body'}: ${first.message}`);
      }
      const m = parsed.data;
      if (m.redirect_uris.length > policy.maxRedirectUris) throw new OAuthError('invalid_redirect_uri', `at most ${policy.maxRedirectUris} redirect_uris`);
      const uris = m.redirect_uris.map(checkRedirectUri);
      if (policy.policy === 'allow-listed') {
        const off = offAllowList(uris, policy.allowedRedirectHosts);
        if (off) throw new OAuthError('invalid_redirect_uri', `redirect host ${off.hostname} is not on this server's allow list`);
      }
      const unsupported = m.grant_types.find((g) => g !== 'authorization_code' && g !== 'refresh_token');
      if (unsupported) throw new OAuthError('invalid_client_metadata', `grant type ${unsupported} is not supported`);
      if (!m.grant_types.includes('authorization_code')) throw new OAuthError('invalid_client_metadata', 'grant_types must include authorization_code');
      if (m.response_types.some((r) => r !== 'code')) throw new OAuthError('invalid_client_metadata', 'only response type code is supported');
      if (m.scope) {
        const bad = m.scope.split(' ').filter(Boolean).find((s) => !cfg.scopes.includes(s as never));
        if (bad) throw new OAuthError('invalid_client_metadata', `scope ${bad} is not offered here`);
      }

      const clientId = `mcp_${randomToken(16)}`;
      const secret = m.token_endpoint_auth_method === 'none' ? undefined : `mcps_${randomToken()}`;
      const issuedAt = Math.floor(ctx.now() / 1000);
      const client: OAuthClient = {
        client_id: clientId,
        client_name: m.client_name,
        client_uri: m.client_uri,
        redirect_uris: m.redirect_uris,
        token_endpoint_auth_method: m.token_endpoint_auth_method,
        grant_types: m.grant_types,
        scope: m.scope,
        secretHash: secret ? hashToken(secret) : undefined,
        client_id_issued_at: issuedAt,
        source: 'registered',
        skipConsent: false,
      };
      await ctx.clients.save(site, client, policy.unusedClientTtlSeconds);
      req.log?.info({ clientId, clientName: m.client_name, org: site.org.name }, 'client registered');
      res.status(201).json({
        client_id: clientId,
        client_id_issued_at: issuedAt,
        ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
        redirect_uris: m.redirect_uris,
        token_endpoint_auth_method: m.token_endpoint_auth_method,
        grant_types: m.grant_types,
        response_types: m.response_types,
        ...(m.client_name ? { client_name: m.client_name } : {}),
        ...(m.client_uri ? { client_uri: m.client_uri } : {}),
        ...(m.scope ? { scope: m.scope } : {}),
      });
    }),
  );
  return router;
}
