import { Router } from 'express';
import type { GatewayConfig } from '../config/schema.js';
import type { Site } from '../http/sites.js';
import type { KvStore } from '../store/kv.js';
import type { Logger } from '@kmg/shared/logger';
import { InvalidTokenError, type AccessTokenVerifier, type UpstreamTokenSource } from '../auth/principal.js';

export interface OAuthServerOptions {
  store: KvStore;
  logger: Logger;
  now: () => number;
}

export interface OAuthServer {
  verifier: AccessTokenVerifier;
  upstream: UpstreamTokenSource;
  wellKnownRouter(): Router;
  siteRouter(site: Site): Router;
}

// Interim skeleton (replaced in the next commit by the full authorization server).
export function createOAuthServer(_config: GatewayConfig, _sites: Site[], _opts: OAuthServerOptions): OAuthServer {
  return {
    verifier: { verify: async () => { throw new InvalidTokenError('invalid', 'token not recognised'); } },
    upstream: { subjectToken: async () => { throw new InvalidTokenError('revoked', 'no upstream token'); } },
    wellKnownRouter: () => Router(),
    siteRouter: () => Router(),
  };
}
