import { describe, expect, it } from 'vitest';
import type { Principal } from '../auth/principal.js';
import { rateLimitsSchema } from '../config/mcp.js';
import { MemoryKvStore } from '../store/memory.js';
import { checkRateLimits } from './rate-limit.js';

const alice: Principal = { org: 'o', sub: 'u-alice', username: 'alice', groups: [], clientId: 'c1', scopes: [], expiresAt: 0, mode: 'gateway' };

describe('rate limits per user and per client', () => {
  it('refuses the request after the per-user allowance with the seconds left in the window', async () => {
    const kv = new MemoryKvStore();
    const limits = rateLimitsSchema.parse({ perUser: { requests: 3, windowSeconds: 60 }, perClient: { requests: 100 } });
    const t = 1_800_000_000_000 + 15_000;
    for (let i = 0; i < 3; i++) expect(await checkRateLimits(kv, alice, limits, t)).toEqual({ limited: false });
    expect(await checkRateLimits(kv, alice, limits, t)).toMatchObject({ limited: true, who: 'user' });
    const d = await checkRateLimits(kv, alice, limits, t);
    expect(d.limited && d.retryAfterSeconds).toBeGreaterThan(0);
    expect(await checkRateLimits(kv, { ...alice, sub: 'u-bob' }, limits, t)).toEqual({ limited: false });
  });

  it('counts a client across all its users', async () => {
    const kv = new MemoryKvStore();
    const limits = rateLimitsSchema.parse({ perUser: { requests: 100 }, perClient: { requests: 2 } });
    const t = 1_800_000_000_000;
    await checkRateLimits(kv, alice, limits, t);
    await checkRateLimits(kv, { ...alice, sub: 'u-bob' }, limits, t);
    expect(await checkRateLimits(kv, { ...alice, sub: 'u-carol' }, limits, t)).toMatchObject({ limited: true, who: 'client' });
  });
});
