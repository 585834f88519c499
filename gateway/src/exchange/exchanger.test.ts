import { describe, expect, it } from 'vitest';
import { createLogger } from '@kmg/shared/logger';
import { MemoryKvStore } from '../store/memory.js';
import type { Principal } from '../auth/principal.js';
import { exchangeSchema } from '../config/mcp.js';
import { TokenExchanger, cacheKey } from './exchanger.js';
import { createSealer } from '../crypto/seal.js';
import { randomBytes } from 'node:crypto';
import { ExchangeUnavailableError } from './errors.js';
import type { ExchangeStrategy } from './strategy.js';

const logger = createLogger('test', { level: 'silent' });
const exchange = exchangeSchema.parse({ tokenEndpoint: 'https://kc.test/token', clientId: 'mcp-gateway', clientSecret: 'x' });
const alice: Principal = { org: 'acme', sub: 'u-alice', username: 'alice', groups: [], clientId: 'c', scopes: [], expiresAt: 0, mode: 'gateway' };
const target = { audience: 'kubernetes', scopes: [], exchange };

function counting(delayMs = 50, now = Date.now) {
  const s = { calls: 0, down: false };
  const strategy: ExchangeStrategy = {
    name: 'fake',
    async exchange(req) {
      s.calls++;
      await new Promise((r) => setTimeout(r, delayMs));
      if (s.down) throw new ExchangeUnavailableError('keycloak down');
      return { accessToken: `x-${req.audience}-${s.calls}`, expiresAt: Math.floor(now() / 1000) + 300 };
    },
  };
  return { s, strategy };
}

/** Values in the store are sealed; a reversible stand-in shows they never sit there in the clear. */
const sealer = { seal: (p: string, aad: string) => Buffer.from(`${aad}\n${p}`).toString('base64'), open: (c: string, aad: string) => { const [a, ...p] = Buffer.from(c, 'base64').toString().split('\n'); if (a !== aad) throw new Error('aad'); return p.join('\n'); } };

describe('token exchange cache', () => {
  it('costs one exchange for a burst from one user across two replicas sharing the store', async () => {
    const kv = new MemoryKvStore();
    const { s, strategy } = counting(80);
    const a = new TokenExchanger({ kv, sealer, logger, strategyFor: () => strategy });
    const b = new TokenExchanger({ kv, sealer, logger, strategyFor: () => strategy });
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).tokenFor(alice, target, async () => 'subject')));
    expect(s.calls).toBe(1);
    expect(new Set(tokens).size).toBe(1);
  });

  it('keeps serving a cached token while the token endpoint is down, and 503s a new user', async () => {
    const kv = new MemoryKvStore();
    const { s, strategy } = counting(1);
    const gw = new TokenExchanger({ kv, sealer, logger, strategyFor: () => strategy });
    const first = await gw.tokenFor(alice, target, async () => 'subject');
    s.down = true;
    await expect(gw.tokenFor(alice, target, async () => 'subject')).resolves.toBe(first);
    await expect(gw.tokenFor({ ...alice, sub: 'u-new' }, target, async () => 'subject')).rejects.toBeInstanceOf(ExchangeUnavailableError);
  });

  it('exchanges again shortly before the cached token expires', async () => {
    const kv = new MemoryKvStore();
    let t = Date.now();
    const { s, strategy } = counting(1, () => t);
    const gw = new TokenExchanger({ kv, sealer, logger, now: () => t, strategyFor: () => strategy });
    await gw.tokenFor(alice, target, async () => 'subject');
    t += (300 - exchange.refreshSkewSeconds + 1) * 1000;
    await gw.tokenFor(alice, target, async () => 'subject');
    expect(s.calls).toBe(2);
  });

  it('does not call the subject-token source on a cache hit', async () => {
    const kv = new MemoryKvStore();
    const { strategy } = counting(1);
    const gw = new TokenExchanger({ kv, sealer, logger, strategyFor: () => strategy });
    let asked = 0;
    const subject = async () => (asked++, 'subject');
    await gw.tokenFor(alice, target, subject);
    await gw.tokenFor(alice, target, subject);
    expect(asked).toBe(1);
  });
});

describe('token exchange cache at rest', () => {
  it('binds each sealed entry to its cache key: an entry copied to another user does not serve them', async () => {
    const kv = new MemoryKvStore();
    const { s, strategy } = counting(1);
    const real = createSealer([{ id: 'k1', key: randomBytes(32).toString('base64') }], { kind: 'redis' });
    const gw = new TokenExchanger({ kv, sealer: real, logger, strategyFor: () => strategy });
    const aliceToken = await gw.tokenFor(alice, target, async () => 'subject');
    const bob = { ...alice, sub: 'u-bob', username: 'bob' };
    // Someone with write access to Redis copies alice's sealed entry under bob's key.
    await kv.set(`xchg:${cacheKey(bob, target)}`, (await kv.get(`xchg:${cacheKey(alice, target)}`))!, 300);
    const fresh = new TokenExchanger({ kv, sealer: real, logger, strategyFor: () => strategy });
    const bobToken = await fresh.tokenFor(bob, target, async () => 'subject');
    expect(bobToken).not.toBe(aliceToken);
    expect(s.calls).toBe(2);
    expect(await kv.get(`xchg:${cacheKey(alice, target)}`)).not.toContain(aliceToken);
  });
});
