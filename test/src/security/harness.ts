// An in-process gateway (app.ts, the stack's Redis and Keycloak, the stack's or the suite's workers) whose log
// lines the security suites capture, so each attack can assert that no secret, token or stack trace leaked
// into them. Orgs: `gw` (the OAuth facade, open registration, client ID metadata documents with private
// addresses blocked), `locked` (registration by initial access token only), `listed` (allow-listed redirect
// hosts, documents from private addresses allowed so the suite can serve them), `rs` (resource server: Keycloak
// tokens; read tools need openid, write tools mcp:tools:write, which Keycloak tokens here do not carry), `rsw`
// (resource server, read and write tools with any Keycloak login: the cluster's RBAC decides).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { REDACTED_PATHS } from '@kmg/shared/logger';
import { createApp } from '@kmg/gateway/app';
import { configSchema } from '@kmg/gateway/config/schema';
import { createKvStore } from '@kmg/gateway/store/index';
import type { KvStore } from '@kmg/gateway/store/kv';
import type { StackEnv } from '../stack/env.js';

export interface SecurityGateway {
  base: string;
  issuer(org: string): string;
  mcpUrl(org: string): string;
  /** Every log line the gateway wrote (JSON text), oldest first. */
  logs: string[];
  store: KvStore;
  /** The initial access token of org `locked`. */
  initialAccessToken: string;
  close(): Promise<void>;
}

export interface SecurityGatewayOptions {
  /** MCP URLs of the workers of cluster `stack` (default: the stack's). */
  workers?: string[];
  /** A second cluster `prod` of orgs gw, rs and rsw (cluster confusion). */
  prodWorkers?: string[];
  accessTokenTtlSeconds?: number;
  /** Adds org `imp` (resource server, read and write with any Keycloak login) whose cluster `imp` impersonates. */
  impersonation?: { workers: string[]; audience: string; signingKeyFile: string; issuer: string };
}

export async function startSecurityGateway(env: StackEnv, opts: SecurityGatewayOptions = {}): Promise<SecurityGateway> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(line);
      done();
    },
  });
  // The production logger's options (shared/src/logger.ts) at debug level, written to memory.
  const logger = pino({ name: 'gateway-security', level: 'debug', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, sink);
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const keyPrefix = `kmg-sec-${randomBytes(4).toString('hex')}:`;
  const initialAccessToken = randomBytes(24).toString('base64url');
  const keycloak = { issuer: env.KEYCLOAK_ISSUER, clientId: env.GATEWAY_CLIENT_ID, clientSecret: env.GATEWAY_CLIENT_SECRET, caFile: env.STACK_CA_FILE };
  const exchange = { tokenEndpoint: `${env.KEYCLOAK_ISSUER}/protocol/openid-connect/token`, clientId: env.GATEWAY_CLIENT_ID, clientSecret: env.GATEWAY_CLIENT_SECRET, caFile: env.STACK_CA_FILE };
  const workers = opts.workers ?? env.WORKER_URLS!;
  const cluster = (name: string, urls: string[], isDefault: boolean) => ({
    name, default: isDefault, workers: urls, audience: env.KUBE_AUDIENCE, identity: 'bearer', exchangeScopes: [env.KUBE_AUDIENCE_SCOPE],
    healthCheck: { intervalMs: 1000, timeoutMs: 500 },
  });
  const clusters = [cluster('stack', workers, true), ...(opts.prodWorkers ? [cluster('prod', opts.prodWorkers, false)] : [])];
  const limits = { perUser: { points: 100_000 }, perClient: { points: 100_000 } };
  const config = configSchema.parse({
    publicUrl: base,
    logLevel: 'debug',
    storage: { redis: { url: env.REDIS_URL, keyPrefix } },
    encryptionKeys: [{ id: 'sec', key: randomBytes(32).toString('base64') }],
    audit: { destination: 'off' },
    ...(opts.impersonation ? { identityAssertion: { signingKeyFile: opts.impersonation.signingKeyFile, issuer: opts.impersonation.issuer } } : {}),
    rateLimits: { register: { points: 10_000, windowSeconds: 3600 }, authorize: { points: 10_000, windowSeconds: 60 }, token: { points: 10_000, windowSeconds: 60 } },
    orgs: [
      {
        name: 'gw',
        oauth: { keycloak, registration: { policy: 'open' }, tokens: { accessTokenTtlSeconds: opts.accessTokenTtlSeconds ?? 300, refreshGraceSeconds: 2 } },
        exchange,
        clusters,
        rateLimits: limits,
      },
      {
        name: 'locked',
        oauth: { keycloak, registration: { policy: 'initial-access-token', initialAccessTokens: [initialAccessToken] } },
        exchange,
        clusters: [cluster('stack', workers, true)],
        rateLimits: limits,
      },
      {
        name: 'listed',
        oauth: {
          keycloak,
          registration: { policy: 'allow-listed', allowedRedirectHosts: ['app.example.com'] },
          // Documents are served by the suite from 127.0.0.1 with the stack's certificate.
          clientIdMetadataDocuments: { allowPrivateAddresses: true, caFile: env.STACK_CA_FILE, cacheSeconds: 1 },
        },
        exchange,
        clusters: [cluster('stack', workers, true)],
        rateLimits: limits,
      },
      {
        name: 'rs',
        mode: 'resource-server',
        resourceServer: { issuer: env.KEYCLOAK_ISSUER, audience: [env.GATEWAY_CLIENT_ID], caFile: env.STACK_CA_FILE },
        exchange,
        clusters,
        policy: { readScope: 'openid', writeScope: 'mcp:tools:write' },
        rateLimits: limits,
      },
      {
        name: 'rsw',
        mode: 'resource-server',
        resourceServer: { issuer: env.KEYCLOAK_ISSUER, audience: [env.GATEWAY_CLIENT_ID], caFile: env.STACK_CA_FILE },
        exchange,
        clusters,
        policy: { readScope: 'openid', writeScope: 'openid' },
        rateLimits: limits,
      },
      ...(opts.impersonation
        ? [{
            name: 'imp',
            mode: 'resource-server',
            resourceServer: { issuer: env.KEYCLOAK_ISSUER, audience: [env.GATEWAY_CLIENT_ID], caFile: env.STACK_CA_FILE },
            clusters: [{ name: 'imp', workers: opts.impersonation.workers, audience: opts.impersonation.audience, identity: 'impersonation', healthCheck: { intervalMs: 1000, timeoutMs: 500 } }],
            policy: { readScope: 'openid', writeScope: 'openid' },
            rateLimits: limits,
          }]
        : []),
    ],
  });
  const store = createKvStore({ redisUrl: env.REDIS_URL, keyPrefix });
  const { app } = createApp(config, { store, logger });
  server.on('request', app);
  return {
    base,
    issuer: (org) => `${base}/orgs/${org}`,
    mcpUrl: (org) => `${base}/orgs/${org}/mcp`,
    logs,
    store,
    initialAccessToken,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(() => r(undefined)));
      await store.close();
    },
  };
}
