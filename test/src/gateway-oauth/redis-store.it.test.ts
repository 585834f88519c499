// The gateway's KV store contract on a real Redis (the stack's): TTL on every key, single-use takes,
// compare-and-set, counters, key prefix isolation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { RedisKvStore } from '@kmg/gateway/store/redis';
import { loadStackEnv } from '../stack/env.js';

let kv: RedisKvStore;
let other: RedisKvStore;
const prefix = `kmg-it-${randomBytes(4).toString('hex')}:`;

beforeAll(() => {
  const env = loadStackEnv();
  kv = new RedisKvStore({ url: env.REDIS_URL, keyPrefix: prefix });
  other = new RedisKvStore({ url: env.REDIS_URL, keyPrefix: `${prefix}other:` });
});
afterAll(async () => {
  await kv?.close();
  await other?.close();
});

describe('RedisKvStore', () => {
  it('puts a TTL on every key it writes, counters included', async () => {
    await kv.set('a', '1', 30);
    await kv.setIfAbsent('b', '1', 30);
    await kv.incr('c', 30);
    await kv.compareAndSet('d', null, 'x', 30);
    for (const k of ['a', 'b', 'c', 'd']) {
      const ttl = await kv.client.ttl(k);
      expect(ttl, k).toBeGreaterThan(0);
      expect(ttl, k).toBeLessThanOrEqual(30);
    }
    await expect(kv.set('e', '1', 0)).rejects.toThrow(/TTL/);
  });

  it('takeOnce: one of many concurrent takers is first, every other one sees a replay of the same value', async () => {
    await kv.set('once', 'sealed-record', 30);
    const results = await Promise.all(Array.from({ length: 20 }, () => kv.takeOnce('once', 600)));
    expect(results.filter((r) => r?.first)).toHaveLength(1);
    expect(results.every((r) => r?.value === 'sealed-record')).toBe(true);
    // The tombstone outlives the value's own TTL, so a late replay is still recognised.
    expect(await kv.client.ttl('once')).toBeGreaterThan(30);
    expect(await kv.takeOnce('never-set', 600)).toBeNull();
  });

  it('hands a single-use value to exactly one of many concurrent takers', async () => {
    await kv.set('code', 'v', 30);
    const results = await Promise.all(Array.from({ length: 20 }, () => kv.getDel('code')));
    expect(results.filter((r) => r === 'v')).toHaveLength(1);
  });

  it('lets exactly one concurrent compare-and-set win', async () => {
    await kv.set('fam', 'g0', 30);
    const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => kv.compareAndSet('fam', 'g0', `g${i + 1}`, 30)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect(await kv.delIfEquals('fam', 'g0')).toBe(false);
  });

  it('keeps prefixes apart and counts within one window', async () => {
    await kv.set('shared', 'mine', 30);
    expect(await other.get('shared')).toBeNull();
    expect(await kv.incr('n', 30)).toBe(1);
    expect(await kv.incr('n', 30)).toBe(2);
    expect(await kv.ttl('n')).toBeGreaterThan(0);
  });
});
