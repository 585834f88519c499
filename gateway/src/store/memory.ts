import { checkTtl, fromTake, TOMBSTONE, type KvStore } from './kv.js';

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * In-process store: the embedded default (one replica) and unit tests. `now` is injectable so tests
 * can freeze and advance the clock. Expired entries are dropped lazily and by a periodic sweep.
 */
export class MemoryKvStore implements KvStore {
  readonly kind = 'memory' as const;
  private readonly map = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  private live(key: string): Entry | undefined {
    const e = this.map.get(key);
    if (e && e.expiresAt <= this.now()) {
      this.map.delete(key);
      return undefined;
    }
    return e;
  }

  private put(key: string, value: string, ttlSeconds: number): void {
    this.map.set(key, { value, expiresAt: this.now() + checkTtl(key, ttlSeconds) * 1000 });
  }

  private sweep(): void {
    const t = this.now();
    for (const [k, e] of this.map) if (e.expiresAt <= t) this.map.delete(k);
  }

  async get(key: string): Promise<string | null> {
    return this.live(key)?.value ?? null;
  }
  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.put(key, value, ttlSeconds);
  }
  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    if (this.live(key)) return false;
    this.put(key, value, ttlSeconds);
    return true;
  }
  async getDel(key: string): Promise<string | null> {
    const e = this.live(key);
    this.map.delete(key);
    return e?.value ?? null;
  }
  async takeOnce(key: string, tombstoneTtlSeconds: number): Promise<{ value: string; first: boolean } | null> {
    const e = this.live(key);
    if (!e) return null;
    if (!e.value.startsWith(TOMBSTONE)) this.put(key, TOMBSTONE + e.value, tombstoneTtlSeconds);
    return fromTake(e.value);
  }
  async del(...keys: string[]): Promise<number> {
    let n = 0;
    for (const k of keys) if (this.live(k) && this.map.delete(k)) n++;
    return n;
  }
  async incr(key: string, ttlSeconds: number): Promise<number> {
    const e = this.live(key);
    if (!e) {
      this.put(key, '1', ttlSeconds);
      return 1;
    }
    const n = Number(e.value) + 1;
    e.value = String(n);
    return n;
  }
  async compareAndSet(key: string, expected: string | null, value: string, ttlSeconds: number): Promise<boolean> {
    const current = this.live(key)?.value ?? null;
    if (current !== expected) return false;
    this.put(key, value, ttlSeconds);
    return true;
  }
  async delIfEquals(key: string, expected: string): Promise<boolean> {
    if (this.live(key)?.value !== expected) return false;
    this.map.delete(key);
    return true;
  }
  async expire(key: string, ttlSeconds: number): Promise<boolean> {
    const e = this.live(key);
    if (!e) return false;
    e.expiresAt = this.now() + checkTtl(key, ttlSeconds) * 1000;
    return true;
  }
  async ttl(key: string): Promise<number | null> {
    const e = this.live(key);
    return e ? Math.ceil((e.expiresAt - this.now()) / 1000) : null;
  }
  async ping(): Promise<void> {}
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.map.clear();
  }
}
