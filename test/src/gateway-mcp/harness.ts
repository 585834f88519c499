// In-process gateways over the real stack (Redis, Keycloak, workers, kube-apiserver) with configs the MCP-path
// suites control, plus small network tools: a tap in front of a worker (records what the worker receives, can
// hold a response), a TCP cut-off in front of Keycloak, and worker processes of our own that a test may kill.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http, { type IncomingHttpHeaders, type Server } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createLogger } from '@kmg/shared/logger';
import { createApp } from '@kmg/gateway/app';
import { configSchema, type GatewayConfig } from '@kmg/gateway/config/schema';
import { createKvStore } from '@kmg/gateway/store/index';
import type { KvStore } from '@kmg/gateway/store/kv';
import { repoRoot, type StackEnv } from '../stack/env.js';

export interface TestGateway {
  base: string;
  mcpUrl(org: string): string;
  store: KvStore;
  close(): Promise<void>;
}

export interface GatewayOptions {
  /** Shared by replicas that must see each other's sessions and exchange cache. */
  keyPrefix: string;
  encryptionKey: string;
  workers: string[];
  /** Keycloak origin to use for the token endpoint and JWKS (a cut-able proxy); defaults to KEYCLOAK_URL. */
  keycloakOrigin?: string;
  keepAliveMs?: number;
  /** Audit destination (a file path, stdout, off); off by default. */
  audit?: string;
}

export function sharedSecrets(): Pick<GatewayOptions, 'keyPrefix' | 'encryptionKey'> {
  return { keyPrefix: `kmg-it-${randomBytes(4).toString('hex')}:`, encryptionKey: randomBytes(32).toString('base64') };
}

async function listen(server: Server | net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

/** Serves a parsed config from the already-listening server, with its own store on the stack's Redis. */
function serve(server: Server, base: string, config: GatewayConfig, env: StackEnv, keyPrefix: string): TestGateway {
  const store = createKvStore({ redisUrl: env.REDIS_URL, keyPrefix: keyPrefix });
  const { app } = createApp(config, { store, logger: createLogger('gateway-it', { level: 'silent' }) });
  server.on('request', app);
  server.requestTimeout = 0;
  return {
    base,
    mcpUrl: (org) => `${base}/orgs/${org}/mcp`,
    store,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(() => r(undefined)));
      await store.close();
    },
  };
}

/**
 * A gateway (app.ts, real Redis) whose orgs are in resource-server mode: clients present Keycloak tokens from
 * the password grant, and the gateway exchanges them at Keycloak (as mcp-gateway) for the apiserver audience.
 * Orgs: `rs` (read and write with any Keycloak login), `ro` (read-only), `scoped` (write tools need mcp:tools:write,
 * which Keycloak tokens here do not carry).
 */
export async function startGateway(env: StackEnv, opts: GatewayOptions): Promise<TestGateway> {
  const kc = new URL(env.KEYCLOAK_ISSUER);
  const origin = opts.keycloakOrigin ?? kc.origin;
  const issuerPath = kc.pathname.replace(/\/$/, '');
  const server = http.createServer();
  const port = await listen(server);
  const base = `http://127.0.0.1:${port}`;
  const rs = (extra: Record<string, unknown>) => ({
    mode: 'resource-server',
    resourceServer: { issuer: env.KEYCLOAK_ISSUER, audience: [env.GATEWAY_CLIENT_ID], jwksUri: `${origin}${issuerPath}/protocol/openid-connect/certs`, caFile: env.STACK_CA_FILE },
    exchange: { tokenEndpoint: `${origin}${issuerPath}/protocol/openid-connect/token`, clientId: env.GATEWAY_CLIENT_ID, clientSecret: env.GATEWAY_CLIENT_SECRET, caFile: env.STACK_CA_FILE, timeoutMs: 3000 },
    clusters: [{ name: 'stack', workers: opts.workers, audience: env.KUBE_AUDIENCE, healthCheck: { intervalMs: 1000, timeoutMs: 500 } }],
    rateLimits: { perUser: { requests: 100_000 }, perClient: { requests: 100_000 } },
    ...extra,
  });
  const config = configSchema.parse({
    publicUrl: base,
    logLevel: 'silent',
    storage: { redis: { url: env.REDIS_URL, keyPrefix: opts.keyPrefix } },
    encryptionKeys: [{ id: 'it', key: opts.encryptionKey }],
    audit: { destination: opts.audit ?? 'off' },
    mcp: { keepAliveMs: opts.keepAliveMs ?? 15_000 },
    orgs: [
      { name: 'rs', ...rs({ policy: { readScope: 'openid', writeScope: 'openid' } }) },
      { name: 'ro', ...rs({ policy: { readOnly: true, readScope: 'openid', writeScope: 'openid' } }) },
      { name: 'scoped', ...rs({ policy: { readScope: 'openid', writeScope: 'mcp:tools:write' } }) },
    ],
  });
  return serve(server, base, config, env, opts.keyPrefix);
}

/**
 * A gateway in its default mode: the OAuth facade in front of the stack's Keycloak (login, consent, gateway-issued
 * tokens with a short lifetime) and the exchange done with the org's Keycloak client. Org `gw`.
 */
export async function startOAuthGateway(env: StackEnv, opts: GatewayOptions & { accessTokenTtlSeconds: number }): Promise<TestGateway> {
  const server = http.createServer();
  const port = await listen(server);
  const base = `http://127.0.0.1:${port}`;
  const config = configSchema.parse({
    publicUrl: base,
    logLevel: 'silent',
    storage: { redis: { url: env.REDIS_URL, keyPrefix: opts.keyPrefix } },
    encryptionKeys: [{ id: 'it', key: opts.encryptionKey }],
    audit: { destination: 'off' },
    orgs: [
      {
        name: 'gw',
        oauth: {
          keycloak: { issuer: env.KEYCLOAK_ISSUER, clientId: env.GATEWAY_CLIENT_ID, clientSecret: env.GATEWAY_CLIENT_SECRET, caFile: env.STACK_CA_FILE },
          registration: { policy: 'open' },
          tokens: { accessTokenTtlSeconds: opts.accessTokenTtlSeconds },
        },
        clusters: [{ name: 'stack', workers: opts.workers, audience: env.KUBE_AUDIENCE }],
      },
    ],
  });
  return serve(server, base, config, env, opts.keyPrefix);
}

export async function sdkClient(url: string, token: string, fetchImpl?: typeof fetch): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'gateway-it', version: '0.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  await client.connect(transport);
  return { client, transport };
}

export interface Tap {
  url: string;
  /** Headers of each MCP request (health checks left out). */
  seen: IncomingHttpHeaders[];
  /** The body of each MCP request, in the same order as `seen`. */
  bodies: string[];
  /** Milliseconds to hold a tools/call answer (headers and body) before passing it on (0 = pass at once). */
  holdToolCallsMs: number;
  close(): Promise<void>;
}

/**
 * An HTTP hop in front of a worker that records each request's headers and can hold tools/call answers,
 * like a tool that runs for a long time without a byte of output.
 */
export async function tapWorker(workerMcpUrl: string): Promise<Tap> {
  const target = new URL(workerMcpUrl);
  const tap: Tap = { url: '', seen: [], bodies: [], holdToolCallsMs: 0, close: async () => undefined };
  const server = http.createServer((req, res) => {
    if (req.url !== '/healthz') tap.seen.push(req.headers);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url !== '/healthz') tap.bodies.push(body.toString('utf8'));
      const isCall = body.includes('"tools/call"');
      const up = http.request(
        { host: target.hostname, port: target.port, path: req.url === '/healthz' ? '/healthz' : target.pathname, method: req.method, headers: { ...req.headers, host: target.host } },
        (upRes) => {
          const pass = () => {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
          };
          // A worker that thinks for a long time: nothing at all reaches the gateway until the hold ends.
          if (isCall && tap.holdToolCallsMs > 0) setTimeout(pass, tap.holdToolCallsMs);
          else pass();
        },
      );
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  const port = await listen(server);
  tap.url = `http://127.0.0.1:${port}/mcp`;
  tap.close = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(() => r(undefined)));
  };
  return tap;
}

/** A TCP forwarder to Keycloak that a test can cut (closing every open connection). */
export async function cutOffProxy(targetOrigin: string): Promise<{ origin: string; cut(): Promise<void> }> {
  const t = new URL(targetOrigin);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(t.port || 443), t.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => (client.destroy(), upstream.destroy(), sockets.delete(client), sockets.delete(upstream));
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  const port = await listen(server);
  return {
    // Same host name as Keycloak so its certificate matches; the port is ours.
    origin: `${t.protocol}//${t.hostname === "localhost" ? "localhost" : "127.0.0.1"}:${port}`,
    cut: async () => {
      await new Promise((r) => {
        server.close(() => r(undefined));
        for (const s of sockets) s.destroy();
      });
    },
  };
}

/** Worker replicas of this suite's own (bearer mode against the stack's apiserver), so a test may kill one and start it again on its port. */
export async function startWorkers(env: StackEnv, count: number): Promise<{ urls: string[]; procs: ChildProcess[]; restart(i: number): Promise<void>; stop(): void }> {
  const main = path.join(repoRoot, 'worker', 'dist', 'main.js');
  const procs: ChildProcess[] = [];
  const urls: string[] = [];
  const ports: number[] = [];
  const spawnWorker = (port: number) =>
    spawn(process.execPath, [main], {
      stdio: 'ignore',
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), KUBE_APISERVER_URL: env.KUBE_APISERVER_URL, KUBE_CA_FILE: env.KUBE_CA_FILE, WORKER_IDENTITY: 'bearer', WORKER_CLUSTER_NAME: 'stack', LOG_LEVEL: 'warn' },
    });
  const healthy = async (u: string) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(u.replace(/\/mcp$/, '/healthz')).then((r) => r.ok, () => false);
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`worker ${u} did not start`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  for (let i = 0; i < count; i++) {
    const probe = net.createServer();
    const port = await listen(probe);
    await new Promise((r) => probe.close(() => r(undefined)));
    ports.push(port);
    procs.push(spawnWorker(port));
    urls.push(`http://127.0.0.1:${port}/mcp`);
  }
  for (const u of urls) await healthy(u);
  return {
    urls,
    procs,
    async restart(i) {
      const old = procs[i]!;
      if (old.exitCode === null && old.signalCode === null) throw new Error(`worker ${i} is still running`);
      procs[i] = spawnWorker(ports[i]!);
      await healthy(urls[i]!);
    },
    stop: () => procs.forEach((p) => p.exitCode === null && p.signalCode === null && p.kill('SIGTERM')),
  };
}
