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
  for (const [who, id, rule] of checks) {
    if (rule.requests === 0) continue;
    const window = Math.floor(nowMs / 1000 / rule.windowSeconds);
    const count = await kv.incr(`rl:mcp:${who}:${principal.org}:${id}:${window}`, rule.windowSeconds);
    if (count > rule.requests) {
      const retry = Math.max(1, (window + 1) * rule.windowSeconds - Math.floor(nowMs / 1000));
      return { limited: true, who, retryAfterSeconds: retry };
    }
  }
  return { limited: false };
}
