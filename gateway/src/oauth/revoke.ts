import { Router, urlencoded, type Request, type Response } from 'express';
import type { Site } from '../http/sites.js';
import { OAuthError, oauthHandler } from './errors.js';
import { rateLimit, type OAuthContext } from './context.js';
import { authenticateClient, formBody } from './client-auth.js';
import { GrantStore } from './grants.js';

/**
 * POST /revoke (RFC 7009). Revoking a refresh token ends its grant (and so every access token of it);
 * revoking an access token ends that token. Unknown or foreign tokens still get 200 (§2.2), so the
 * endpoint cannot be used to probe tokens.
 */
export function revokeRouter(ctx: OAuthContext, site: Site): Router {
  const router = Router();
  router.post(
    '/revoke',
    urlencoded({ extended: false, limit: ctx.config.bodyLimit }),
    oauthHandler(async (req: Request, res: Response) => {
      res.setHeader('Cache-Control', 'no-store');
      const body = formBody(req);
      // Keyed on the address only: client_id is the caller's choice, and a new one must not buy a new bucket
      // (nor, for an https id, another metadata-document fetch).
      await rateLimit(ctx, 'token', `${site.org.name}:${req.ip}`, req);
      const client = await authenticateClient(ctx, site, req, body);
      if (!body.token) throw new OAuthError('invalid_request', 'token is required');
      const hint = body.token_type_hint;
      if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token') throw new OAuthError('unsupported_token_type', `token_type_hint ${hint} is not supported`);
      const gid = GrantStore.grantIdOfRefresh(body.token);
      if (gid) {
        const grant = await ctx.grants.get(gid);
        if (grant && grant.clientId === client.client_id && grant.org === site.org.name) await ctx.grants.revoke(gid);
      } else {
        const rec = await ctx.grants.accessRecord(body.token);
        if (rec && rec.clientId === client.client_id) await ctx.grants.revokeAccess(body.token);
      }
      res.status(200).end();
    }),
  );
  return router;
}
