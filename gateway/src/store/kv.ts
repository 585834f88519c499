/**
 * The one key-value store every stateful part of the gateway uses (clients, grants, codes, refresh
 * families, MCP sessions, exchange cache, rate-limit counters, single-flight locks).
 *
 * Rules the implementations enforce:
 * - every key has a TTL (Redis never accumulates forgotten state), so every write takes `ttlSeconds` (> 0);
 * - keys are namespaced with the store's prefix by the implementation; callers pass bare keys;
 * - operations are single-key, so they stay atomic on Redis Cluster (no cross-slot scripts).
 */
export interface KvStore {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  /** Overwrites; ttlSeconds > 0. */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** SET NX: true when this call created the key (use for locks and one-time markers). */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Atomically reads and deletes (single-use codes). */
  getDel(key: string): Promise<string | null>;
  /**
   * Single use with memory, atomically: the first caller gets the value (`first: true`) and the key becomes a
   * tombstone holding it for `tombstoneTtlSeconds`; every later caller gets the same value with `first: false`,
   * so a replay is recognised however close it comes to the first use. Null when the key never existed or expired.
   */
  takeOnce(key: string, tombstoneTtlSeconds: number): Promise<{ value: string; first: boolean } | null>;
  /** Deletes keys; returns how many existed. */
  del(...keys: string[]): Promise<number>;
  /** Increments a counter; the TTL is set when the counter is created and not extended. */
  incr(key: string, ttlSeconds: number): Promise<number>;
  /**
   * Atomic compare-and-set: writes `value` only when the current value equals `expected`
   * (`null` = the key must not exist). Returns true when written. Used for refresh-token rotation
   * and for replacing the sealed upstream tokens, so two replicas cannot both win.
   */
  compareAndSet(key: string, expected: string | null, value: string, ttlSeconds: number): Promise<boolean>;
  /** Atomically deletes the key only when it still holds `expected` (releasing a lock you own). */
  delIfEquals(key: string, expected: string): Promise<boolean>;
  /** Resets the TTL of an existing key; false when the key does not exist. */
  expire(key: string, ttlSeconds: number): Promise<boolean>;
  /** Remaining TTL in seconds, or null when the key does not exist. */
  ttl(key: string): Promise<number | null>;
  /** Throws when the backend is unreachable (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** What takeOnce's tombstone puts before the value (sealed values start with "v1.", so they never collide). */
export const TOMBSTONE = 'kmg-used:';

/** Reads takeOnce's result: the value, and whether this call was the first to take it. */
export function fromTake(raw: string | null): { value: string; first: boolean } | null {
  if (raw === null) return null;
  return raw.startsWith(TOMBSTONE) ? { value: raw.slice(TOMBSTONE.length), first: false } : { value: raw, first: true };
}

export class KvTtlError extends TypeError {
  constructor(key: string, ttl: number) {
    super(`every key needs a positive integer TTL: "${key}" got ${ttl}`);
  }
}

export function checkTtl(key: string, ttlSeconds: number): number {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) throw new KvTtlError(key, ttlSeconds);
  return Math.max(1, Math.ceil(ttlSeconds));
}

/** Waits until `fn` returns non-null, polling; single-flight followers use it to pick up the leader's result. */
export async function pollFor<T>(fn: () => Promise<T | null>, opts: { timeoutMs: number; intervalMs?: number }): Promise<T | null> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() >= deadline) return null;
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}
