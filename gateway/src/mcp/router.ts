// PLACEHOLDER created by the gateway-OAuth engineer so app.ts compiles; the MCP-path engineer (issue 6) replaces
// this file. Keep the export name `mcpRouter(deps: GatewayDeps)`. app.ts mounts it at `/orgs/:org/mcp` and `/mcp`
// after resolving the site: `res.locals.site` (http/sites.ts: org config, issuer, mcpUrl, resourceMetadataUrl).
// deps.verifier.verify(org, site.mcpUrl, token) -> Principal or InvalidTokenError;
// deps.upstream.subjectToken(principal) -> the user's current Keycloak access token (for RFC 8693 exchange).
import { Router } from 'express';
import type { GatewayDeps } from '../app.js';
import type { Site } from '../http/sites.js';
import { InvalidTokenError } from '../auth/principal.js';
import { bearerChallenge } from '../auth/bearer.js';

export function mcpRouter(deps: GatewayDeps): Router {
  const router = Router({ mergeParams: true });
  router.all('/', async (req, res) => {
    const site = res.locals.site as Site;
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    try {
      if (!token) throw new InvalidTokenError('missing', 'no bearer token');
      await deps.verifier.verify(site.org.name, site.mcpUrl, token);
    } catch (e) {
      if (e instanceof InvalidTokenError) return bearerChallenge(res, site, e);
      throw e;
    }
    res.status(501).json({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'MCP forwarding not implemented yet' } });
  });
  return router;
}
