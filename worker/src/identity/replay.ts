import { TtlCache } from '../k8s/cache.js';

/** How long past `exp` an assertion still verifies (jose clockTolerance in @kmg/shared's verifier). */
export const CLOCK_TOLERANCE_MS = 5_000;
const DEFAULT_MAX_ENTRIES = 100_000;

/**
 * The `jti` values of identity assertions this replica has accepted, each kept until its assertion expires,
 * so a captured assertion cannot be presented again. Bounded (oldest first out when full: 100k entries is
 * over 300 accepted requests per second for the longest lifetime).
 *
 * Per replica is enough: the gateway mints a fresh assertion for every request it forwards and sends it to one
 * worker, assertions live at most 300 s, and each is bound to one audience and one cluster. A replay to another
 * replica of the same pool can repeat one request at most once per replica within those minutes, with the
 * identity the gateway already vouched for; a shared store would add a network hop to every call for that.
 */
export class ReplayCache {
  private readonly seen: TtlCache<true>;

  constructor(
    maxEntries = DEFAULT_MAX_ENTRIES,
    private readonly now: () => number = Date.now,
  ) {
    this.seen = new TtlCache<true>(1, maxEntries, now);
  }

  /** True the first time a jti is presented (and remembers it until `expSeconds`), false on every replay. */
  firstUse(jti: string, expSeconds: number): boolean {
    if (this.seen.get(jti)) return false;
    this.seen.set(jti, true, Math.max(1, expSeconds * 1000 + CLOCK_TOLERANCE_MS - this.now()));
    return true;
  }

  get size(): number {
    return this.seen.size;
  }
}
