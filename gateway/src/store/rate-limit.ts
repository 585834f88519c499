import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { STORE_RETRY_AFTER_SECONDS, UnavailableError } from '../http/unavailable.js';
import type { KvStore } from './kv.js';
import { RedisKvStore } from './redis.js';

export interface RateLimit {
  /** Allowed events per window. */
  points: number;
  windowSeconds: number;
}

/** A limiter shared by all replicas when the store is Redis (rate-limiter-flexible), in-process otherwise. */
export function createRateLimiter(store: KvStore, name: string, limit: RateLimit): RateLimiterAbstract {
  const opts = { keyPrefix: `rl:${name}`, points: limit.points, duration: limit.windowSeconds };
  if (store instanceof RedisKvStore) return new RateLimiterRedis({ ...opts, storeClient: store.client, useRedisPackage: false });
  return new RateLimiterMemory(opts);
}

/** Consumes one point; returns the seconds to wait when limited, or 0. A store failure is an UnavailableError. */
export async function consume(limiter: RateLimiterAbstract, key: string): Promise<number> {
  try {
    await limiter.consume(key);
    return 0;
  } catch (e) {
    if (e instanceof RateLimiterRes) return Math.max(1, Math.ceil(e.msBeforeNext / 1000));
    throw new UnavailableError('store', `rate limiter unavailable: ${(e as Error).message}`, STORE_RETRY_AFTER_SECONDS, { cause: e });
  }
}
