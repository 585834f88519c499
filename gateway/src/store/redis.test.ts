import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../http/unavailable.js';
import { RedisKvStore } from './redis.js';

describe('RedisKvStore without a Redis', () => {
  it('fails each operation as UnavailableError (answered 503 + Retry-After), within a few reconnect attempts', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const kv = new RedisKvStore({ url: `redis://127.0.0.1:${port}` });
    kv.client.on('error', () => undefined);
    try {
      const errors = await Promise.all([kv.get('k'), kv.compareAndSet('k', null, 'v', 10), kv.takeOnce('k', 10), kv.del('a', 'b')].map((p) => p.catch((e: unknown) => e)));
      for (const err of errors) {
        expect(err).toBeInstanceOf(UnavailableError);
        expect((err as UnavailableError).dependency).toBe('store');
      }
    } finally {
      kv.client.disconnect();
    }
  }, 20_000);
});
