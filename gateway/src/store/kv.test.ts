import { describe, expect, it } from 'vitest';
import { MemoryKvStore } from './memory.js';
import { parseRedisUrl } from './redis.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (s: number) => (t += s * 1000) };
}

describe('MemoryKvStore', () => {
  it('expires keys after their TTL', async () => {
    const c = clock();
    const kv = new MemoryKvStore(c.now);
    await kv.set('a', '1', 10);
    c.advance(9);
    expect(await kv.get('a')).toBe('1');
    c.advance(2);
    expect(await kv.get('a')).toBeNull();
    await kv.close();
  });
  it('refuses writes without a TTL', async () => {
    const kv = new MemoryKvStore();
    await expect(kv.set('a', '1', 0)).rejects.toThrow(/TTL/);
    await kv.close();
  });
  it('lets only the first setIfAbsent win and getDel hand a value out once', async () => {
    const kv = new MemoryKvStore();
    expect(await kv.setIfAbsent('l', 'x', 5)).toBe(true);
    expect(await kv.setIfAbsent('l', 'y', 5)).toBe(false);
    expect(await kv.getDel('l')).toBe('x');
    expect(await kv.getDel('l')).toBeNull();
    await kv.close();
  });
  it('takeOnce hands a value out first once, then as a replay until the tombstone expires', async () => {
    const c = clock();
    const kv = new MemoryKvStore(c.now);
    await kv.set('code', 'rec', 60);
    expect(await kv.takeOnce('code', 3600)).toEqual({ value: 'rec', first: true });
    c.advance(120);
    expect(await kv.takeOnce('code', 3600)).toEqual({ value: 'rec', first: false });
    c.advance(3600);
    expect(await kv.takeOnce('code', 3600)).toBeNull();
    await kv.close();
  });
  it('compare-and-set writes only over the expected value', async () => {
    const kv = new MemoryKvStore();
    expect(await kv.compareAndSet('f', null, 'v1', 5)).toBe(true);
    expect(await kv.compareAndSet('f', null, 'v2', 5)).toBe(false);
    expect(await kv.compareAndSet('f', 'v0', 'v2', 5)).toBe(false);
    expect(await kv.compareAndSet('f', 'v1', 'v2', 5)).toBe(true);
    expect(await kv.get('f')).toBe('v2');
    expect(await kv.delIfEquals('f', 'v1')).toBe(false);
    expect(await kv.delIfEquals('f', 'v2')).toBe(true);
    await kv.close();
  });
  it('counts within a window that starts at the first increment', async () => {
    const c = clock();
    const kv = new MemoryKvStore(c.now);
    expect(await kv.incr('n', 10)).toBe(1);
    c.advance(5);
    expect(await kv.incr('n', 10)).toBe(2);
    c.advance(6);
    expect(await kv.incr('n', 10)).toBe(1);
    await kv.close();
  });
});

describe('parseRedisUrl', () => {
  it.each([
    ['redis://127.0.0.1:6379/0', { mode: 'standalone' }],
    ['redis-sentinel://:pw@s1:26379,s2/mymaster/2', { mode: 'sentinel', name: 'mymaster', db: 2, password: 'pw' }],
    ['redis-cluster://n1:7000,n2:7001', { mode: 'cluster', nodes: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }] }],
  ])('understands %s', (url, expected) => {
    expect(parseRedisUrl(url)).toMatchObject(expected);
  });
  it('refuses other schemes and sentinel URLs without a master name', () => {
    expect(() => parseRedisUrl('http://x')).toThrow();
    expect(() => parseRedisUrl('redis-sentinel://s1:26379')).toThrow(/master name/);
  });
});
