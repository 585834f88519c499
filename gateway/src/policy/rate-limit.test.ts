import { describe, expect, it } from 'vitest';
import type { Principal } from '../auth/principal.js';
import { rateLimitsSchema } from '../config/mcp.js';
import { MemoryKvStore } from '../store/memory.js';
import { McpRateLimiter } from './rate-limit.js';

const alice: Principal = { org: 'o', sub: 'u-alice', username: 'alice', groups: [], clientId: 'c1', scopes: [], expiresAt: 0, mode: 'gateway' };

describe('rate limits per user and per client', () => {
  it('refuses the request after the per-user allowance with the seconds left in the window', async () => {
    const limiter = new McpRateLimiter(new MemoryKvStore());
    const limits = rateLimitsSchema.parse({ perUser: { points: 3, windowSeconds: 60 }, perClient: { points: 100 } });
    for (let i = 0; i < 3; i++) expect(await limiter.check(alice, limits)).toEqual({ limited: false });
    expect(await limiter.check(alice, limits)).toMatchObject({ limited: true, who: 'user' });
    const d = await limiter.check(alice, limits);
    expect(d.limited && d.retryAfterSeconds).toBeGreaterThan(0);
    expect(await limiter.check({ ...alice, sub: 'u-bob' }, limits)).toEqual({ limited: false });
  });

  it('counts a client across all its users', async () => {
    const limiter = new McpRateLimiter(new MemoryKvStore());
    const limits = rateLimitsSchema.parse({ perUser: { points: 100 }, perClient: { points: 2 } });
    await limiter.check(alice, limits);
    await limiter.check({ ...alice, sub: 'u-bob' }, limits);
    expect(await limiter.check({ ...alice, sub: 'u-carol' }, limits)).toMatchObject({ limited: true, who: 'client' });
  });

  it('reads the older `requests` spelling as points, and 0 as off', async () => {
    const limiter = new McpRateLimiter(new MemoryKvStore());
    const limits = rateLimitsSchema.parse({ perUser: { requests: 0 }, perClient: { requests: 1 } });
    expect(limits.perClient.points).toBe(1);
    expect(await limiter.check(alice, limits)).toEqual({ limited: false });
    expect(await limiter.check(alice, limits)).toMatchObject({ limited: true, who: 'client' });
  });
});
