import type { Logger } from '@kmg/shared/logger';
import { LiveSessions, type OpsMetrics } from '@kmg/shared/ops';
import type { AccessTokenVerifier, UpstreamTokenSource } from '../auth/principal.js';
import { ResourceServerVerifier } from '../auth/resource-server.js';
import type { GatewayConfig, OrgConfig } from '../config/schema.js';
import { createSealer } from '../crypto/seal.js';
import { IdentityAssertionSigner } from '../exchange/assertion.js';
import { TokenExchanger, type Sealer as ExchangeSealer } from '../exchange/exchanger.js';
import { createAuditSink, type AuditSink } from '../policy/audit.js';
import { ToolCatalog } from '../policy/catalog.js';
import { McpRateLimiter } from '../policy/rate-limit.js';
import { SessionStore } from '../sessions/store.js';
import type { KvStore } from '../store/kv.js';
import { WorkerPool } from '../workers/pool.js';
import { createForwarder, type Forwarder } from './forward.js';
import { SessionStreams } from './streams.js';
import { VerifiedTokenCache } from './verified-tokens.js';

/** What the MCP path needs from the rest of the gateway (no import back into app.ts). */
export interface McpDeps {
  config: GatewayConfig;
  store: KvStore;
  logger: Logger;
  /** Verifies gateway-issued tokens (oauth/); resource-server orgs use the runtime's own verifier. */
  verifier: AccessTokenVerifier;
  /** The user's current Keycloak token for a gateway grant (the exchange's subject token). */
  upstream: UpstreamTokenSource;
  now: () => number;
  metrics?: OpsMetrics;
}

export interface McpRuntimeOverrides {
  /** Replaces the store-backed exchange cache's sealer (tests). */
  sealer?: ExchangeSealer;
  audit?: AuditSink;
  exchanger?: TokenExchanger;
}

/** The services of the MCP path, built once per gateway and closed on shutdown. */
export interface McpRuntime {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly now: () => number;
  readonly upstream: UpstreamTokenSource;
  readonly exchanger: TokenExchanger;
  readonly sessions: SessionStore;
  /** kmg_live_sessions (sessions used on this replica within their idle lifetime), when metrics are wired. */
  readonly live: LiveSessions | undefined;
  readonly streams: SessionStreams;
  readonly signer: Promise<IdentityAssertionSigner>;
  readonly catalog: ToolCatalog;
  /** Worker pools by `org/cluster`. */
  readonly pools: ReadonlyMap<string, WorkerPool>;
  readonly limiter: McpRateLimiter;
  readonly audit: AuditSink;
  readonly forward: Forwarder;
  verifierFor(org: OrgConfig): AccessTokenVerifier;
  /**
   * Runs one request's pipeline, counted until its last step (the audit) is done: close() waits for these, so a
   * call that finished during shutdown still has its audit line written before the sink is flushed.
   */
  track(work: Promise<void>): Promise<void>;
  pool(org: string, cluster: string): WorkerPool;
  /** Stops health checks and timers, ends local streams, flushes and closes the audit sink. */
  close(): Promise<void>;
}

export function createMcpRuntime(deps: McpDeps, overrides: McpRuntimeOverrides = {}): McpRuntime {
  const { config, logger, store, now } = deps;
  const sealer = overrides.sealer ?? createSealer(config.encryptionKeys, store);
  const exchanger = overrides.exchanger ?? new TokenExchanger({ kv: store, sealer, logger, now, ...(deps.metrics ? { metrics: deps.metrics } : {}) });
  const audit = overrides.audit ?? createAuditSink(config.audit.destination);
  const signer = IdentityAssertionSigner.create(config.identityAssertion, config.publicUrl);
  signer.catch((err: unknown) => logger.error({ err }, 'identity assertion key could not be loaded'));
  const rsOrgs = config.orgs.filter((o) => o.mode === 'resource-server' && o.resourceServer).map((o) => ({ name: o.name, resourceServer: o.resourceServer! }));
  // Keycloak JWTs depend only on their bytes and the clock: a repeat of a verified token skips the signature check.
  const rsVerifier = new VerifiedTokenCache(new ResourceServerVerifier(rsOrgs, now), { now });
  const pools = new Map<string, WorkerPool>();
  for (const org of config.orgs) {
    for (const c of org.clusters) {
      const pool = new WorkerPool(c, logger, now);
      pool.start();
      pools.set(`${org.name}/${c.name}`, pool);
    }
  }
  const sessions = new SessionStore(store, now);
  const streams = new SessionStreams(sessions, config.mcp.keepAliveMs, config.mcp.maxStreamsPerUser);
  const sweeper = setInterval(() => exchanger.sweep(), 60_000);
  sweeper.unref();
  const inflight = new Set<Promise<void>>();

  return {
    config,
    logger,
    now,
    upstream: deps.upstream,
    exchanger,
    sessions,
    live: deps.metrics ? new LiveSessions(deps.metrics, now) : undefined,
    streams,
    signer,
    catalog: new ToolCatalog(5 * 60_000, now),
    pools,
    limiter: new McpRateLimiter(store),
    audit,
    forward: createForwarder(logger, config.mcp),
    track: (work) => {
      inflight.add(work);
      const done = () => void inflight.delete(work);
      work.then(done, done);
      return work;
    },
    verifierFor: (org) => (org.mode === 'resource-server' ? rsVerifier : deps.verifier),
    pool: (org, cluster) => {
      const p = pools.get(`${org}/${cluster}`);
      if (!p) throw new Error(`no worker pool for ${org}/${cluster}`);
      return p;
    },
    close: async () => {
      clearInterval(sweeper);
      for (const p of pools.values()) p.stop();
      streams.closeAll();
      await Promise.allSettled([...inflight]);
      await audit.close();
    },
  };
}
