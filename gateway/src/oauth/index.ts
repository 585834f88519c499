import { readFileSync } from 'node:fs';
import { Router } from 'express';
import type { Logger } from '@kmg/shared/logger';
import type { GatewayConfig } from '../config/schema.js';
import type { Site } from '../http/sites.js';
import type { KvStore } from '../store/kv.js';
import { createRateLimiter } from '../store/rate-limit.js';
import { createSealer, type Sealer } from '../crypto/seal.js';
import type { AccessTokenVerifier, UpstreamTokenSource } from '../auth/principal.js';
import { GatewayTokenVerifier, GrantUpstreamTokens } from './gateway-tokens.js';
import { GrantStore } from './grants.js';
import { ClientRegistry } from './clients.js';
import { metadataDocumentFetcher, type ClientMetadataDocument } from './client-metadata.js';
import { keycloakIdp, type UpstreamIdp } from './keycloak.js';
import { wellKnownRouter } from './metadata.js';
import { registerHandler } from './register.js';
import { authorizeRouter } from './authorize.js';
import { consentRouter } from './consent.js';
import { tokenRouter } from './token.js';
import { revokeRouter } from './revoke.js';
import type { OAuthContext } from './context.js';
import { publicCors } from '../http/cors.js';

export interface OAuthServerOptions {
  store: KvStore;
  logger: Logger;
  now: () => number;
  /** Identity provider per org; defaults to Keycloak via openid-client. Unit tests pass a fake. */
  idpFor?: (site: Site) => UpstreamIdp;
  /** Sealer for secrets at rest; defaults to config.encryptionKeys (or an ephemeral key with the memory store). */
  sealer?: Sealer;
  /** Client ID metadata document fetcher override (tests). */
  fetchClientMetadata?: (site: Site, url: string) => Promise<ClientMetadataDocument>;
}

export interface OAuthServer {
  verifier: AccessTokenVerifier;
  upstream: UpstreamTokenSource;
  wellKnownRouter(): Router;
  siteRouter(site: Site): Router;
}

/**
 * The authorization-server facade: one router per site (org path and, for singleOrg, root), the
 * well-known documents, and the two services the MCP path uses (token verifier, upstream tokens).
 */
export function createOAuthServer(config: GatewayConfig, sites: Site[], opts: OAuthServerOptions): OAuthServer {
  const sealer = opts.sealer ?? createSealer(config.encryptionKeys, opts.store);
  const grants = new GrantStore(opts.store, sealer, opts.now);

  // One IdP client per org (shared by the org's sites: same Keycloak client, same discovery).
  const idps = new Map<string, UpstreamIdp>();
  const idp = (site: Site): UpstreamIdp => {
    let i = idps.get(site.org.name);
    if (!i) {
      i = opts.idpFor ? opts.idpFor(site) : keycloakIdp(site.org.oauth!.keycloak);
      idps.set(site.org.name, i);
    }
    return i;
  };
  const siteOf = (org: string, base: string) => sites.find((s) => s.org.name === org && s.base === base) ?? sites.find((s) => s.org.name === org)!;

  const fetchers = new Map<string, (url: string) => Promise<ClientMetadataDocument>>();
  const fetchDoc = (site: Site, url: string) => {
    if (opts.fetchClientMetadata) return opts.fetchClientMetadata(site, url);
    let f = fetchers.get(site.org.name);
    if (!f) {
      const c = site.org.oauth!.clientIdMetadataDocuments;
      f = metadataDocumentFetcher({ allowPrivateAddresses: c.allowPrivateAddresses, timeoutMs: c.timeoutMs, maxBytes: c.maxBytes, ca: c.caFile ? readFileSync(c.caFile, 'utf8') : undefined });
      fetchers.set(site.org.name, f);
    }
    return f(url);
  };
  const clients = new ClientRegistry(opts.store, sealer, fetchDoc, opts.logger);

  const upstream = new GrantUpstreamTokens({
    grants,
    kv: opts.store,
    idpForOrg: (org, base) => idp(siteOf(org, base)),
    now: opts.now,
    skewSeconds: (org) => sites.find((s) => s.org.name === org)?.org.oauth?.tokens.upstreamRefreshSkewSeconds ?? 30,
    logger: opts.logger,
  });

  const ctx: OAuthContext = {
    config,
    kv: opts.store,
    grants,
    clients,
    idp,
    limiters: {
      register: createRateLimiter(opts.store, 'register', config.rateLimits.register),
      authorize: createRateLimiter(opts.store, 'authorize', config.rateLimits.authorize),
      token: createRateLimiter(opts.store, 'token', config.rateLimits.token),
    },
    logger: opts.logger,
    now: opts.now,
    freshUpstream: (gid) => upstream.fresh(gid),
  };

  return {
    verifier: new GatewayTokenVerifier(grants, opts.now),
    upstream,
    wellKnownRouter: () => wellKnownRouter(sites),
    siteRouter(site: Site): Router {
      const router = Router();
      if (!site.org.oauth) return router;
      for (const path of ['/register', '/token', '/revoke']) router.use(path, publicCors(['POST']));
      router.use('/register', registerHandler(ctx, site));
      router.use(authorizeRouter(ctx, site, sealer));
      router.use(consentRouter(ctx, site, sealer));
      router.use(tokenRouter(ctx, site));
      router.use(revokeRouter(ctx, site));
      return router;
    },
  };
}
