import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { STORE_RETRY_AFTER_SECONDS, UnavailableError } from '../http/unavailable.js';
import { checkTtl, fromTake, TOMBSTONE, type KvStore } from './kv.js';

/**
 * Redis URL forms accepted by `storage.redis.url`:
 * - `redis://[user:pass@]host:port[/db]`, `rediss://…` (TLS): standalone;
 * - `redis-sentinel://[:pass@]host1:26379,host2:26379/<masterName>[/db]`: Sentinel;
 * - `redis-cluster://[:pass@]host1:6379,host2:6379`: Cluster (all operations are single-key).
 */
export type RedisTarget =
  | { mode: 'standalone'; url: string }
  | { mode: 'sentinel'; sentinels: { host: string; port: number }[]; name: string; db: number; password?: string; tls: boolean }
  | { mode: 'cluster'; nodes: { host: string; port: number }[]; password?: string; tls: boolean };

function hostList(s: string, defaultPort: number): { host: string; port: number }[] {
  return s.split(',').filter(Boolean).map((hp) => {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hp);
    if (!m) throw new TypeError(`bad host:port "${hp}" in Redis URL`);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : defaultPort };
  });
}

export function parseRedisUrl(url: string): RedisTarget {
  const m = /^(redis-sentinel|rediss-sentinel|redis-cluster|rediss-cluster|redis|rediss):\/\/(?:([^@/]*)@)?([^/]+)(\/.*)?$/.exec(url);
  if (!m) throw new TypeError('storage.redis.url must start with redis://, rediss://, redis-sentinel:// or redis-cluster://');
  const [, scheme, auth, hosts, path] = m as unknown as [string, string, string | undefined, string, string | undefined];
  const password = auth ? decodeURIComponent(auth.includes(':') ? auth.slice(auth.indexOf(':') + 1) : auth) || undefined : undefined;
  const tls = scheme.startsWith('rediss');
  if (scheme === 'redis' || scheme === 'rediss') return { mode: 'standalone', url };
  if (scheme.endsWith('-sentinel')) {
    const parts = (path ?? '').split('/').filter(Boolean);
    if (!parts[0]) throw new TypeError('redis-sentinel:// URLs need the master name as the path: redis-sentinel://h1:26379,h2:26379/mymaster');
    return { mode: 'sentinel', sentinels: hostList(hosts, 26379), name: parts[0], db: Number(parts[1] ?? 0), password, tls };
  }
  return { mode: 'cluster', nodes: hostList(hosts, 6379), password, tls };
}

// Single-key scripts, so they are atomic on Redis Cluster too.
const CAS = `local cur = redis.call('GET', KEYS[1])
if (ARGV[1] == '0' and cur == false) or (ARGV[1] == '1' and cur == ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4]) return 1 end
return 0`;
const DEL_IF_EQ = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const INCR_TTL = `local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n`;

// One GET-and-mark step, so two concurrent takers can never both see the value as unused.
const TAKE_ONCE = `local v = redis.call('GET', KEYS[1])
if not v then return false end
if string.sub(v, 1, string.len(ARGV[1])) ~= ARGV[1] then redis.call('SET', KEYS[1], ARGV[1] .. v, 'EX', ARGV[2]) end
return v`;

type Client = Redis | Cluster;
interface Scripts {
  kmgCas(key: string, hasExpected: string, expected: string, value: string, ttl: number): Promise<number>;
  kmgDelIfEq(key: string, expected: string): Promise<number>;
  kmgIncrTtl(key: string, ttl: number): Promise<number>;
  kmgTakeOnce(key: string, marker: string, ttl: number): Promise<string | null>;
}

export interface RedisStoreOptions {
  url: string;
  /** Prepended to every key, e.g. "kmg:". */
  keyPrefix?: string;
  /** Extra ioredis options (tests: lazyConnect, retry strategy). */
  redisOptions?: RedisOptions;
}

export function createRedisClient(opts: RedisStoreOptions): Client {
  const target = parseRedisUrl(opts.url);
  // While Redis is away a command waits for at most three reconnect attempts, then fails (503 upstream); reconnects
  // are at most 500 ms apart, so service resumes within half a second of Redis (or a promoted replica) answering.
  const common: RedisOptions = { keyPrefix: opts.keyPrefix ?? 'kmg:', maxRetriesPerRequest: 3, retryStrategy: (times) => Math.min(times * 50, 500), ...opts.redisOptions };
  switch (target.mode) {
    case 'standalone':
      return new Redis(target.url, common);
    case 'sentinel':
      return new Redis({
        ...common,
        sentinels: target.sentinels,
        name: target.name,
        db: target.db,
        password: target.password,
        sentinelPassword: target.password,
        ...(target.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
      });
    case 'cluster':
      return new Cluster(target.nodes, {
        keyPrefix: common.keyPrefix,
        redisOptions: { ...common, password: target.password, ...(target.tls ? { tls: {} } : {}) },
      });
  }
}

/**
 * Runs one store operation; any failure of it (connection lost, retries exhausted, a replica that is read-only or
 * still loading after a failover) is an UnavailableError, which every caller answers with 503 + Retry-After.
 */
async function reach<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw new UnavailableError('store', `store unavailable: ${(err as Error).message}`, STORE_RETRY_AFTER_SECONDS, { cause: err });
  }
}

export class RedisKvStore implements KvStore {
  readonly kind = 'redis' as const;
  /** The raw client, for libraries that need one (rate-limiter-flexible). Keys it writes carry the same prefix. */
  readonly client: Client;
  private readonly scripts: Scripts;

  constructor(opts: RedisStoreOptions) {
    this.client = createRedisClient(opts);
    this.client.defineCommand('kmgCas', { numberOfKeys: 1, lua: CAS });
    this.client.defineCommand('kmgDelIfEq', { numberOfKeys: 1, lua: DEL_IF_EQ });
    this.client.defineCommand('kmgIncrTtl', { numberOfKeys: 1, lua: INCR_TTL });
    this.client.defineCommand('kmgTakeOnce', { numberOfKeys: 1, lua: TAKE_ONCE });
    this.scripts = this.client as unknown as Scripts;
  }

  get(key: string): Promise<string | null> {
    return reach(() => this.client.get(key));
  }
  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    const ttl = checkTtl(key, ttlSeconds);
    await reach(() => this.client.set(key, value, 'EX', ttl));
  }
  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    const ttl = checkTtl(key, ttlSeconds);
    return (await reach(() => this.client.set(key, value, 'EX', ttl, 'NX'))) === 'OK';
  }
  getDel(key: string): Promise<string | null> {
    return reach(() => this.client.getdel(key));
  }
  async takeOnce(key: string, tombstoneTtlSeconds: number): Promise<{ value: string; first: boolean } | null> {
    const ttl = checkTtl(key, tombstoneTtlSeconds);
    return fromTake(await reach(() => this.scripts.kmgTakeOnce(key, TOMBSTONE, ttl)));
  }
  async del(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    // One DEL per key: keys may live in different Cluster slots.
    const n = await reach(() => Promise.all(keys.map((k) => this.client.del(k))));
    return n.reduce((a, b) => a + b, 0);
  }
  incr(key: string, ttlSeconds: number): Promise<number> {
    const ttl = checkTtl(key, ttlSeconds);
    return reach(() => this.scripts.kmgIncrTtl(key, ttl));
  }
  async compareAndSet(key: string, expected: string | null, value: string, ttlSeconds: number): Promise<boolean> {
    const ttl = checkTtl(key, ttlSeconds);
    return (await reach(() => this.scripts.kmgCas(key, expected === null ? '0' : '1', expected ?? '', value, ttl))) === 1;
  }
  async delIfEquals(key: string, expected: string): Promise<boolean> {
    return (await reach(() => this.scripts.kmgDelIfEq(key, expected))) === 1;
  }
  async expire(key: string, ttlSeconds: number): Promise<boolean> {
    const ttl = checkTtl(key, ttlSeconds);
    return (await reach(() => this.client.expire(key, ttl))) === 1;
  }
  async ttl(key: string): Promise<number | null> {
    const t = await reach(() => this.client.ttl(key));
    return t < 0 ? null : t;
  }
  async ping(): Promise<void> {
    await reach(() => this.client.ping());
  }
  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
