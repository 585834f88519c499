import type { Principal } from '../auth/principal.js';
import type { McpOrgConfig } from '../config/mcp.js';
import type { KvStore } from '../store/kv.js';

export type RateDecision = { limited: false } | { limited: true; who: 'user' | 'client'; retryAfterSeconds: number };

/**
 * Fixed-window counters in the store (shared by all replicas): one per user and one per client per org.
 * A window key expires with its window, so nothing accumulates.
 */
export async function checkRateLimits(kv: KvStore, principal: Principal, limits: McpOrgConfig['rateLimits'], nowMs: number): Promise<RateDecision> {
  const checks: Array<['user' | 'client', string, { requests: number; windowSeconds: number }]> = [
    ['user', principal.sub, limits.perUser],
    ['client', principal.clientId, limits.perClient],
  ];
  // Both counters in one round trip (concurrent commands on one connection), not one after the other.
  const active = checks.filter(([, , rule]) => rule.requests !== 0);
  const counts = await Promise.all(active.map(([who, id, rule]) => kv.incr(`rl:mcp:${who}:${principal.org}:${id}:${Math.floor(nowMs / 1000 / rule.windowSeconds)}`, rule.windowSeconds)));
  for (const [i, [who, , rule]] of active.entries()) {
    if (counts[i]! > rule.requests) {
      const window = Math.floor(nowMs / 1000 / rule.windowSeconds);
      const retry = Math.max(1, (window + 1) * rule.windowSeconds - Math.floor(nowMs / 1000));
      return { limited: true, who, retryAfterSeconds: retry };
    }
  }
  return { limited: false };
}
