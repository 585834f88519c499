import { describe, expect, it } from 'vitest';
import { InvalidTokenError, type AccessTokenVerifier, type Principal } from '../auth/principal.js';
import { VerifiedTokenCache } from './verified-tokens.js';

const principal = (expiresAt: number): Principal => ({ org: 'acme', sub: 'u1', username: 'alice', groups: [], clientId: 'c', scopes: [], expiresAt, mode: 'resource-server' });

/** Accepts tokens named in `valid` with their expiry (epoch s); counts calls. */
function countingVerifier(valid: Record<string, number>): AccessTokenVerifier & { calls: number } {
  const v = {
    calls: 0,
    async verify(_org: string, _resource: string, token: string): Promise<Principal> {
      v.calls++;
      const exp = valid[token];
      if (exp === undefined) throw new InvalidTokenError('invalid', 'bad token');
      if (exp * 1000 <= clock) throw new InvalidTokenError('expired', 'token expired');
      return principal(exp);
    },
  };
  return v;
}
let clock = 1_000_000_000_000;
const now = () => clock;

describe('verified token cache (resource-server mode)', () => {
  it('verifies a repeated token once and returns the same principal', async () => {
    const inner = countingVerifier({ good: clock / 1000 + 300 });
    const cache = new VerifiedTokenCache(inner, { now });
    const a = await cache.verify('acme', 'https://gw/mcp', 'good');
    const b = await cache.verify('acme', 'https://gw/mcp', 'good');
    expect(b).toEqual(a);
    expect(inner.calls).toBe(1);
  });

  it('never caches a refusal: a bad token is checked (and refused) every time', async () => {
    const inner = countingVerifier({});
    const cache = new VerifiedTokenCache(inner, { now });
    await expect(cache.verify('acme', 'https://gw/mcp', 'bad')).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(cache.verify('acme', 'https://gw/mcp', 'bad')).rejects.toBeInstanceOf(InvalidTokenError);
    expect(inner.calls).toBe(2);
  });

  it('sends a token that has expired since it was cached back to the verifier, which refuses it', async () => {
    const inner = countingVerifier({ short: clock / 1000 + 10 });
    const cache = new VerifiedTokenCache(inner, { now });
    await cache.verify('acme', 'https://gw/mcp', 'short');
    clock += 10_000;
    await expect(cache.verify('acme', 'https://gw/mcp', 'short')).rejects.toMatchObject({ problem: 'expired' });
    expect(inner.calls).toBe(2);
  });

  it('re-verifies after maxAgeMs even when the token lives longer', async () => {
    const inner = countingVerifier({ long: clock / 1000 + 3600 });
    const cache = new VerifiedTokenCache(inner, { now, maxAgeMs: 60_000 });
    await cache.verify('acme', 'https://gw/mcp', 'long');
    clock += 60_000;
    await cache.verify('acme', 'https://gw/mcp', 'long');
    expect(inner.calls).toBe(2);
  });

  it('keeps the verdict per org and MCP URL: the same token at another resource is verified again', async () => {
    const inner = countingVerifier({ good: clock / 1000 + 300 });
    const cache = new VerifiedTokenCache(inner, { now });
    await cache.verify('acme', 'https://gw/orgs/acme/mcp', 'good');
    await cache.verify('acme', 'https://gw/orgs/acme/mcp/clusters/b', 'good');
    await cache.verify('other', 'https://gw/orgs/acme/mcp', 'good');
    expect(inner.calls).toBe(3);
  });

  it('stays within maxEntries', async () => {
    const valid: Record<string, number> = {};
    for (let i = 0; i < 20; i++) valid[`t${i}`] = clock / 1000 + 300;
    const cache = new VerifiedTokenCache(countingVerifier(valid), { now, maxEntries: 5 });
    for (let i = 0; i < 20; i++) await cache.verify('acme', 'https://gw/mcp', `t${i}`);
    expect(cache.size).toBeLessThanOrEqual(5);
  });
});
