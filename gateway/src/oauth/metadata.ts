import { Router, type Request, type Response } from 'express';
import type { Site } from '../http/sites.js';
import { publicCors } from '../http/cors.js';
import { resourceServerMetadata } from '../auth/resource-server.js';
import { metadataDocumentsEnabled } from './clients.js';

/** RFC 8414 authorization-server metadata for a site. */
export function authorizationServerMetadata(site: Site): Record<string, unknown> {
  const cfg = site.org.oauth!;
  return {
    issuer: site.issuer,
    authorization_endpoint: `${site.issuer}/authorize`,
    token_endpoint: `${site.issuer}/token`,
    registration_endpoint: `${site.issuer}/register`,
    revocation_endpoint: `${site.issuer}/revoke`,
    scopes_supported: cfg.scopes,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: metadataDocumentsEnabled(cfg),
  };
}

/** RFC 9728 protected-resource metadata for a site's MCP URL. */
export function protectedResourceMetadata(site: Site): Record<string, unknown> {
  return {
    resource: site.mcpUrl,
    authorization_servers: [site.issuer],
    scopes_supported: site.org.oauth!.scopes,
    bearer_methods_supported: ['header'],
    resource_name: `Kubernetes MCP (${site.org.name})`,
  };
}

function json(body: Record<string, unknown>) {
  return (_req: Request, res: Response) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'MCP-Protocol-Version');
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(body);
  };
}

/**
 * Well-known documents at the root, path-inserted per RFC 8414 §3.1 / RFC 9728 §3.1:
 * issuer https://gw/orgs/x -> /.well-known/oauth-authorization-server/orgs/x and
 * /.well-known/openid-configuration/orgs/x; plus the OIDC-style appended form /orgs/x/.well-known/openid-configuration
 * that some clients try. The MCP URL https://gw/orgs/x/mcp -> /.well-known/oauth-protected-resource/orgs/x/mcp.
 */
export function wellKnownRouter(sites: Site[]): Router {
  const router = Router();
  router.use('/.well-known', publicCors(['GET']));
  for (const site of sites) {
    // Resource-server orgs (MCP path): clients log in at Keycloak itself, so the metadata names it.
    if (site.org.mode === 'resource-server' && site.org.resourceServer) {
      router.get(`/.well-known/oauth-protected-resource${site.base}/mcp`, json(resourceServerMetadata(site.mcpUrl, site.org.resourceServer)));
      if (site.base === '') router.get('/.well-known/oauth-protected-resource', json(resourceServerMetadata(site.mcpUrl, site.org.resourceServer)));
      continue;
    }
    if (!site.org.oauth) continue;
    if (site.base) router.use(`${site.base}/.well-known`, publicCors(['GET']));
    const as = json(authorizationServerMetadata(site));
    const prm = json(protectedResourceMetadata(site));
    router.get(`/.well-known/oauth-authorization-server${site.base}`, as);
    router.get(`/.well-known/openid-configuration${site.base}`, as);
    router.get(`${site.base}/.well-known/openid-configuration`, as);
    router.get(`${site.base}/.well-known/oauth-authorization-server`, as);
    router.get(`/.well-known/oauth-protected-resource${site.base}/mcp`, prm);
    if (site.base === '') router.get('/.well-known/oauth-protected-resource', prm);
  }
  return router;
}
