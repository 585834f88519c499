import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Principal } from '../auth/principal.js';
import type { McpOrgConfig } from '../config/mcp.js';
import type { KvStore } from '../store/kv.js';
import { consume, createRateLimiter } from '../store/rate-limit.js';

export type RateDecision = { limited: false } | { limited: true; who: 'user' | 'client'; retryAfterSeconds: number };

interface OrgLimiters {
  user: RateLimiterAbstract | undefined;
  client: RateLimiterAbstract | undefined;
}

/**
 * The MCP path's per-user and per-client limits of each org, on the same limiter (rate-limiter-flexible, shared by
 * all replicas through Redis) and the same `{ points, windowSeconds }` shape as the OAuth endpoints' limits.
 * A rule with 0 points is off.
 */
export class McpRateLimiter {
  readonly #byOrg = new Map<string, OrgLimiters>();

  constructor(private readonly store: KvStore) {}

  async check(principal: Principal, limits: McpOrgConfig['rateLimits']): Promise<RateDecision> {
    const l = this.#limiters(principal.org, limits);
    // Both counters at once (pipelined on one connection), not one after the other.
    const [user, client] = await Promise.all([l.user ? consume(l.user, principal.sub) : 0, l.client ? consume(l.client, principal.clientId) : 0]);
    if (user > 0) return { limited: true, who: 'user', retryAfterSeconds: user };
    if (client > 0) return { limited: true, who: 'client', retryAfterSeconds: client };
    return { limited: false };
  }

  #limiters(org: string, limits: McpOrgConfig['rateLimits']): OrgLimiters {
    let l = this.#byOrg.get(org);
    if (!l) {
      const make = (who: string, rule: { points: number; windowSeconds: number }) => (rule.points > 0 ? createRateLimiter(this.store, `mcp:${who}:${org}`, rule) : undefined);
      l = { user: make('user', limits.perUser), client: make('client', limits.perClient) };
      this.#byOrg.set(org, l);
    }
    return l;
  }
}
