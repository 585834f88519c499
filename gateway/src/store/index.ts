import type { KvStore } from './kv.js';
import { MemoryKvStore } from './memory.js';
import { RedisKvStore } from './redis.js';

export type { KvStore } from './kv.js';

/** Redis when a URL is configured, else the in-memory store (single replica only). */
export function createKvStore(opts: { redisUrl?: string; keyPrefix?: string }): KvStore {
  return opts.redisUrl ? new RedisKvStore({ url: opts.redisUrl, keyPrefix: opts.keyPrefix }) : new MemoryKvStore();
}
