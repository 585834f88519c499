import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from '@kmg/shared/logger';
import { observeKeycloak, type OpsMetrics } from '@kmg/shared/ops';
import type { Principal } from '../auth/principal.js';
import type { ExchangeConfig } from '../config/mcp.js';
import { pollFor, type KvStore } from '../store/kv.js';
import type { ExchangedToken, ExchangeStrategy } from './strategy.js';
import { createExchangeStrategy } from './strategy.js';
import { ExchangeUnavailableError } from './errors.js';

/** Encrypts and authenticates values at rest, bound to `aad` (crypto/seal.ts's Sealer in production). */
export interface Sealer {
  seal(plaintext: string, aad: string): string | Promise<string>;
  open(sealed: string, aad: string): string | Promise<string>;
}

export interface ExchangeTarget {
  audience: string;
  scopes: string[];
  exchange: ExchangeConfig;
}

export interface TokenExchangerDeps {
  kv: KvStore;
  sealer: Sealer;
  logger: Logger;
  now?: () => number;
  /** Injected in unit tests; by default built from the exchange config. */
  strategyFor?: (cfg: ExchangeConfig) => ExchangeStrategy;
  /** Cache hits (memory, redis), misses and Keycloak latency for /metrics. */
  metrics?: OpsMetrics;
}

const LOCK_TTL_SECONDS = 15;

/**
 * Exchanged tokens per (user, audience, scopes): in process, and sealed in the store until
 * `refreshSkewSeconds` before expiry. Single-flight: concurrent callers in this process share one
 * promise; across replicas a store lock elects one caller and the others wait for its result.
 * A cache hit never calls Keycloak, so cached tokens keep serving while Keycloak is down.
 */
export class TokenExchanger {
  readonly #local = new Map<string, ExchangedToken>();
  readonly #inflight = new Map<string, Promise<string>>();
  readonly #strategies = new Map<string, ExchangeStrategy>();
  readonly #now: () => number;
  /** Keycloak exchanges this process performed (bench, metrics). */
  exchangesPerformed = 0;

  constructor(private readonly deps: TokenExchangerDeps) {
    this.#now = deps.now ?? Date.now;
  }

  /** A token for `target.audience`, calling `subjectToken` (which may refresh upstream) only on a miss. */
  async tokenFor(principal: Principal, target: ExchangeTarget, subjectToken: () => Promise<string>): Promise<string> {
    const key = cacheKey(principal, target);
    const hit = this.#fresh(this.#local.get(key), target.exchange);
    if (hit) {
      this.deps.metrics?.exchangeCacheHits.inc({ layer: 'memory' });
      return hit.accessToken;
    }
    let p = this.#inflight.get(key);
    if (!p) {
      p = this.#fetch(key, target, subjectToken).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, p);
    }
    return p;
  }

  async #fetch(key: string, target: ExchangeTarget, subjectToken: () => Promise<string>): Promise<string> {
    const metrics = this.deps.metrics;
    const shared = await this.#readShared(key, target.exchange);
    if (shared) {
      metrics?.exchangeCacheHits.inc({ layer: 'redis' });
      return shared;
    }
    const lockKey = `xchg-lock:${key}`;
    const owner = randomUUID();
    if (!(await this.deps.kv.setIfAbsent(lockKey, owner, LOCK_TTL_SECONDS))) {
      // Another replica is exchanging for this user and audience: wait for its result.
      const waited = await pollFor(() => this.#readShared(key, target.exchange), { timeoutMs: target.exchange.timeoutMs + 1000, intervalMs: 25 });
      if (waited) {
        metrics?.exchangeCacheHits.inc({ layer: 'redis' });
        return waited;
      }
      if (!(await this.deps.kv.setIfAbsent(lockKey, owner, LOCK_TTL_SECONDS))) {
        throw new ExchangeUnavailableError('token exchange in progress on another replica did not finish', 2);
      }
    }
    try {
      const again = await this.#readShared(key, target.exchange);
      if (again) {
        metrics?.exchangeCacheHits.inc({ layer: 'redis' });
        return again;
      }
      metrics?.exchangeCacheMisses.inc();
      const subject = await subjectToken();
      const exchange = () => this.#strategy(target.exchange).exchange({ subjectToken: subject, audience: target.audience, scopes: target.scopes });
      const token = metrics ? await observeKeycloak(metrics, 'exchange', exchange) : await exchange();
      this.exchangesPerformed++;
      const ttl = token.expiresAt - target.exchange.refreshSkewSeconds - Math.floor(this.#now() / 1000);
      if (ttl > 0) {
        this.#local.set(key, token);
        // Bound to its own key: a sealed token copied to another user's cache entry does not open there.
        await this.deps.kv.set(`xchg:${key}`, await this.deps.sealer.seal(JSON.stringify(token), `xchg:${key}`), ttl);
      }
      return token.accessToken;
    } finally {
      await this.deps.kv.delIfEquals(lockKey, owner).catch(() => undefined);
    }
  }

  async #readShared(key: string, cfg: ExchangeConfig): Promise<string | null> {
    const sealed = await this.deps.kv.get(`xchg:${key}`);
    if (!sealed) return null;
    let token: ExchangedToken;
    try {
      token = JSON.parse(await this.deps.sealer.open(sealed, `xchg:${key}`)) as ExchangedToken;
    } catch (err) {
      this.deps.logger.warn({ err }, 'cached exchanged token could not be opened; exchanging again');
      return null;
    }
    const fresh = this.#fresh(token, cfg);
    if (!fresh) return null;
    this.#local.set(key, fresh);
    return fresh.accessToken;
  }

  #fresh(token: ExchangedToken | undefined, cfg: ExchangeConfig): ExchangedToken | undefined {
    if (!token) return undefined;
    return token.expiresAt - cfg.refreshSkewSeconds > this.#now() / 1000 ? token : undefined;
  }

  #strategy(cfg: ExchangeConfig): ExchangeStrategy {
    const id = `${cfg.strategy} ${cfg.tokenEndpoint} ${cfg.clientId}`;
    let s = this.#strategies.get(id);
    if (!s) {
      s = this.deps.strategyFor ? this.deps.strategyFor(cfg) : createExchangeStrategy(cfg, this.#now);
      this.#strategies.set(id, s);
    }
    return s;
  }

  /** Drops expired in-process entries (called periodically). */
  sweep(): void {
    const nowS = this.#now() / 1000;
    for (const [k, t] of this.#local) if (t.expiresAt <= nowS) this.#local.delete(k);
  }
}

/** Hashed so the store never holds user ids in key names; includes the endpoint so two Keycloaks never share. */
export function cacheKey(principal: Principal, target: ExchangeTarget): string {
  const scopes = [...target.scopes].sort().join(' ');
  return createHash('sha256')
    .update([principal.org, principal.sub, target.audience, scopes, target.exchange.tokenEndpoint, target.exchange.clientId].join('\n'))
    .digest('base64url');
}
