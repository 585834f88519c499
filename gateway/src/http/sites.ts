import type { GatewayConfig, OrgConfig } from '../config/schema.js';

/**
 * One place an org is served: `/orgs/{org}` (always) and, for `singleOrg`, the root as well.
 * Each site is its own authorization server (issuer) and protected resource (MCP URL); a token
 * minted for one site's MCP URL is refused at any other (audience binding).
 */
export interface Site {
  org: OrgConfig;
  /** Path prefix inside the gateway: "/orgs/acme" or "". */
  base: string;
  /** Authorization-server issuer: publicUrl + base. */
  issuer: string;
  /** The MCP URL, the only audience tokens minted here carry. */
  mcpUrl: string;
  /** RFC 9728 metadata URL for mcpUrl (path-suffixed well-known). */
  resourceMetadataUrl: string;
}

export function sitesFor(config: GatewayConfig): Site[] {
  const make = (org: OrgConfig, base: string): Site => ({
    org,
    base,
    issuer: config.publicUrl + base,
    mcpUrl: `${config.publicUrl}${base}/mcp`,
    resourceMetadataUrl: `${config.publicUrl}/.well-known/oauth-protected-resource${base}/mcp`,
  });
  const sites = config.orgs.map((o) => make(o, `/orgs/${o.name}`));
  const single = config.orgs.find((o) => o.name === config.singleOrg);
  if (single) sites.push(make(single, ''));
  return sites;
}
