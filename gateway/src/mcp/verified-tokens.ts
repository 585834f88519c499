import { createHash } from 'node:crypto';
import type { AccessTokenVerifier, Principal } from '../auth/principal.js';

export interface VerifiedTokenCacheOptions {
  /** Longest a verification is reused, whatever the token's own expiry (bounds JWKS key-rotation lag). */
  maxAgeMs?: number;
  /** Entries kept at most; the oldest go first. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * Remembers successful verifications of self-contained tokens (Keycloak JWTs in resource-server mode), so a
 * client sending the same token again costs a SHA-256 instead of a signature check and claim validation
 * (the largest per-request CPU cost of the MCP path in the bench profile). Only for verifiers whose answer
 * depends on nothing but the token bytes and the clock: never wrap one that checks revocation in the store.
 * Keyed by a hash of (org, resource, token); an entry is never used at or after the token's `exp`, so an
 * expired token always reaches the real verifier and gets its 401. Failures are never cached.
 */
export class VerifiedTokenCache implements AccessTokenVerifier {
  readonly #entries = new Map<string, { principal: Principal; until: number }>();
  readonly #maxAgeMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(
    private readonly inner: AccessTokenVerifier,
    options: VerifiedTokenCacheOptions = {},
  ) {
    this.#maxAgeMs = options.maxAgeMs ?? 60_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  async verify(org: string, resource: string, token: string): Promise<Principal> {
    const key = createHash('sha256').update(org).update('\n').update(resource).update('\n').update(token).digest('base64url');
    const now = this.#now();
    const hit = this.#entries.get(key);
    if (hit && now < hit.until) return hit.principal;
    if (hit) this.#entries.delete(key);
    const principal = await this.inner.verify(org, resource, token);
    const until = Math.min(now + this.#maxAgeMs, principal.expiresAt * 1000);
    if (until > now) {
      if (this.#entries.size >= this.#maxEntries) this.#evict(now);
      this.#entries.set(key, { principal, until });
    }
    return principal;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Drops expired entries; when none were, the oldest. */
  #evict(now: number): void {
    for (const [k, e] of this.#entries) if (e.until <= now) this.#entries.delete(k);
    if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
