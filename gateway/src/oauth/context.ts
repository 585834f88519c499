import type { Request } from 'express';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '@kmg/shared/logger';
import type { GatewayConfig } from '../config/schema.js';
import type { OAuthOrgConfig } from '../config/oauth.js';
import type { Site } from '../http/sites.js';
import type { KvStore } from '../store/kv.js';
import { consume } from '../store/rate-limit.js';
import type { GrantStore } from './grants.js';
import type { ClientRegistry } from './clients.js';
import type { UpstreamIdp } from './keycloak.js';
import type { UpstreamTokens } from './keycloak.js';
import { OAuthError } from './errors.js';

/** Everything the endpoint handlers share. */
export interface OAuthContext {
  config: GatewayConfig;
  kv: KvStore;
  grants: GrantStore;
  clients: ClientRegistry;
  idp(site: Site): UpstreamIdp;
  limiters: Record<'register' | 'authorize' | 'token', RateLimiterAbstract>;
  logger: Logger;
  now: () => number;
  /** Ensures a grant's Keycloak tokens are current (refreshing single-flight); throws UpstreamRefusedError. */
  freshUpstream(gid: string): Promise<UpstreamTokens>;
}

export function oauthConfig(site: Site): OAuthOrgConfig {
  const cfg = site.org.oauth;
  if (!cfg) throw new OAuthError('server_error', `org ${site.org.name} has no oauth settings`);
  return cfg;
}

export async function rateLimit(ctx: OAuthContext, name: keyof OAuthContext['limiters'], key: string, req: Request): Promise<void> {
  let wait = 0;
  try {
    wait = await consume(ctx.limiters[name], key);
  } catch (err) {
    req.log?.warn({ err }, 'rate limiter unavailable; allowing the request');
  }
  if (wait > 0) throw new OAuthError('too_many_requests', 'too many requests; retry later', { retryAfter: wait });
}
