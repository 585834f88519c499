import { SealError, type Sealer } from '../crypto/seal.js';
import type { KvStore } from './kv.js';

/**
 * JSON records kept sealed (AES-256-GCM) in the store, each bound to its own key as associated data: a value
 * written by anyone without the encryption keys, or copied from another key, reads as absent. Callers that
 * compare-and-set get the stored string too (`read`), so rotation stays one atomic step.
 */
export class SealedRecords {
  constructor(
    readonly kv: KvStore,
    private readonly sealer: Sealer,
  ) {}

  seal(key: string, value: unknown): string {
    return this.sealer.seal(JSON.stringify(value), key);
  }

  /** The record behind a stored string, or null when there is none or it does not authenticate. */
  open<T>(key: string, raw: string | null): T | null {
    if (raw === null) return null;
    try {
      return JSON.parse(this.sealer.open(raw, key)) as T;
    } catch (err) {
      if (err instanceof SealError || err instanceof SyntaxError) return null;
      throw err;
    }
  }

  async get<T>(key: string): Promise<T | null> {
    return this.open<T>(key, await this.kv.get(key));
  }

  /** The record and the exact stored string (for compareAndSet). */
  async read<T>(key: string): Promise<{ raw: string; value: T } | null> {
    const raw = await this.kv.get(key);
    const value = this.open<T>(key, raw);
    return value === null ? null : { raw: raw!, value };
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<string> {
    const sealed = this.seal(key, value);
    await this.kv.set(key, sealed, ttlSeconds);
    return sealed;
  }

  async getDel<T>(key: string): Promise<T | null> {
    return this.open<T>(key, await this.kv.getDel(key));
  }
}
