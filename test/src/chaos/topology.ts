// A private set of processes for one chaos scenario, so killing any of them touches no one else's tests: a
// redis-server of its own, two gateway replicas (real gateway/dist/main.js processes sharing that Redis, key
// prefix and encryption key), two workers, and a loopback load balancer in front of the gateways that, like a
// Service, sends each request on a new connection to a replica whose /readyz answers 200. Keycloak and the
// apiserver are the shared stack's.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { createRedisClient } from '@kmg/gateway/store/redis';
import { startWorkers } from '../gateway-mcp/harness.js';
import { freePort } from '../stack/component.js';
import { repoRoot, type StackEnv } from '../stack/env.js';
import { adminRest, ensure } from '../worker/helpers.js';
import { until } from './scenario.js';

/** Namespace and Deployment the long calls wait on: no controller-manager runs here, so it never finishes rolling out. */
export const LONG_CALL_TARGET = { namespace: 'team-a', name: 'chaos-long' };

export interface LogLine {
  time: number;
  msg: string;
  [k: string]: unknown;
}

export interface GatewayReplica {
  index: number;
  base: string;
  pid(): number | undefined;
  running(): boolean;
  /** Sends the signal; resolves when the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port; resolves when /healthz answers. */
  restart(): Promise<void>;
  /** Log lines about worker health (the rest is dropped to keep a 30-minute soak small). */
  healthLog: LogLine[];
  /** A Prometheus sample from its /metrics (NaN when absent). */
  metric(name: string): Promise<number>;
}

export interface Balancer {
  url: string;
  /** POSTs in flight on each backend right now. */
  inFlight(backend: number): number;
  close(): Promise<void>;
}

export interface Topology {
  /** MCP URL of org `rs` (resource-server mode) through the load balancer. */
  mcpUrl: string;
  /** Issuer of org `gw` (the OAuth facade: gateway-issued tokens) through the load balancer; its MCP URL is `${gwIssuer}/mcp`. */
  gwIssuer: string;
  gateways: GatewayReplica[];
  workers: { urls: string[]; procs: ChildProcess[]; restart(i: number): Promise<void> };
  lb: Balancer;
  redis: Redis;
  keyPrefix: string;
  stop(): Promise<void>;
}

export interface TopologyOptions {
  /** Idle lifetime of an Mcp-Session-Id (the soak shortens it to see sessions reclaimed). */
  sessionTtlSeconds?: number;
  /** Grace period for SIGTERM (ops.shutdown.timeoutSeconds). */
  shutdownSeconds?: number;
  /** Serving time after SIGTERM with /readyz 503 before the listener closes (ops.shutdown.drainDelaySeconds). */
  drainDelaySeconds?: number;
  /** A Redis the scenario runs itself (AOF, Sentinel: any URL the gateway accepts) instead of the topology's own. */
  redisUrl?: string;
  /** Token settings of org `gw` (the facade). */
  facade?: { upstreamRefreshSkewSeconds?: number; refreshGraceSeconds?: number };
  /** Extra node options and environment of the gateway processes (fault injection, e.g. a Keycloak cut-off). */
  gatewayNodeArgs?: string[];
  gatewayEnv?: Record<string, string>;
}

async function startRedis(dir: string): Promise<{ proc: ChildProcess; url: string }> {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  await until('redis-server to answer', async () => {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined); // refused until it listens
    const ok = await r.connect().then(() => r.ping()).then(() => true, () => false);
    r.disconnect();
    return ok;
  }, 15_000, 100);
  return { proc, url };
}

/** How often the balancer asks each replica's /readyz, like kube-proxy / an ingress learning an endpoint's removal. */
const READINESS_POLL_MS = 250;

/**
 * Round-robin over the backends whose /readyz answers 200 (all of them when none does). It retries on the next
 * backend only what is safe for any method: a refused connection, or a reset before any byte of the request was
 * written; anything later would repeat a call the replica may have run.
 */
async function startBalancer(): Promise<Balancer & { setBackends(bases: string[]): void }> {
  let backends: URL[] = [];
  let ready: boolean[] = [];
  const inFlight: number[] = [];
  let next = 0;
  // No keep-alive to backends: a pooled socket a draining replica closes would turn into a spurious failure that a
  // Service (new connection per request from kube-proxy's point of view) does not have.
  const agent = new http.Agent({ keepAlive: false });
  const poll = setInterval(() => {
    backends.forEach((b, i) => {
      fetch(new URL('/readyz', b), { signal: AbortSignal.timeout(2000) })
        .then(
          async (r) => {
            ready[i] = r.ok;
            await r.body?.cancel();
          },
          () => {
            ready[i] = false;
          },
        )
        .catch(() => undefined);
    });
  }, READINESS_POLL_MS);
  const pick = (): number[] => {
    const all = backends.map((_, i) => i);
    const up = all.filter((i) => ready[i] !== false);
    const pool = up.length ? up : all;
    const start = next++ % Math.max(1, pool.length);
    return [...pool.slice(start), ...pool.slice(0, start)];
  };
  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer, order: number[]) => {
    const i = order.shift();
    if (i === undefined) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('no gateway replica accepts connections');
      return;
    }
    const target = backends[i]!;
    const isPost = req.method === 'POST';
    let counted = false;
    let written = 0;
    const up = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers, agent }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
      upRes.on('error', () => res.destroy());
    });
    up.on('socket', (s) => {
      s.once('connect', () => {
        if (isPost) {
          inFlight[i] = (inFlight[i] ?? 0) + 1;
          counted = true;
        }
      });
      s.once('close', () => (written = s.bytesWritten));
    });
    const done = () => {
      if (counted) {
        inFlight[i] = inFlight[i]! - 1;
        counted = false;
      }
    };
    res.once('close', done);
    res.once('close', () => up.destroy());
    up.on('error', (err: NodeJS.ErrnoException) => {
      done();
      const sent = Math.max(written, up.socket?.bytesWritten ?? 0);
      const safe = err.code === 'ECONNREFUSED' || (err.code === 'ECONNRESET' && sent === 0);
      if (safe && !res.headersSent) return handle(req, res, body, order);
      res.destroy();
    });
    up.end(body);
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks), pick()));
  });
  server.requestTimeout = 0;
  // Like a real load balancer's idle timeout: longer than the clients' own, so no request meets a closing socket.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    inFlight: (b) => inFlight[b] ?? 0,
    setBackends(bases) {
      backends = bases.map((b) => new URL(b));
      ready = backends.map(() => true);
    },
    close: async () => {
      clearInterval(poll);
      server.closeAllConnections();
      await new Promise((r) => server.close(() => r(undefined)));
      agent.destroy();
    },
  };
}

function gatewayConfigFor(env: StackEnv, o: { publicUrl: string; redisUrl: string; keyPrefix: string; encryptionKey: string; workers: string[] } & TopologyOptions) {
  const kc = new URL(env.KEYCLOAK_ISSUER);
  const issuerPath = kc.pathname.replace(/\/$/, '');
  const exchange = { tokenEndpoint: `${kc.origin}${issuerPath}/protocol/openid-connect/token`, clientId: env.GATEWAY_CLIENT_ID, clientSecret: env.GATEWAY_CLIENT_SECRET, caFile: env.STACK_CA_FILE };
  return {
    // Every OAuth client of a scenario signs in and refreshes from 127.0.0.1.
    rateLimits: { register: { points: 100_000, windowSeconds: 60 }, authorize: { points: 100_000, windowSeconds: 60 }, token: { points: 100_000, windowSeconds: 60 } },
    publicUrl: o.publicUrl,
    logLevel: 'info',
    storage: { redis: { url: o.redisUrl, keyPrefix: o.keyPrefix } },
    encryptionKeys: [{ id: 'chaos', key: o.encryptionKey }],
    audit: { destination: 'off' },
    // The chart's drain delay: readiness turns 503 and the replica keeps serving while the balancer notices.
    ops: { shutdown: { timeoutSeconds: o.shutdownSeconds ?? 30, drainDelaySeconds: o.drainDelaySeconds ?? 5 } },
    orgs: [
      {
        name: 'rs',
        mode: 'resource-server',
        resourceServer: { issuer: env.KEYCLOAK_ISSUER, audience: [env.GATEWAY_CLIENT_ID], caFile: env.STACK_CA_FILE },
        exchange: { tokenEndpoint: `${kc.origin}${issuerPath}/protocol/openid-connect/token`, clientId: env.GATEWAY_CLIENT_ID, clientSecret: env.GATEWAY_CLIENT_SECRET, caFile: env.STACK_CA_FILE },
        // The product's default health-check timing: what scenario 3 measures.
        clusters: [{ name: 'stack', workers: o.workers, audience: env.KUBE_AUDIENCE }],
        policy: { readScope: 'openid', writeScope: 'openid' },
        rateLimits: { perUser: { requests: 1_000_000 }, perClient: { requests: 1_000_000 } },
        ...(o.sessionTtlSeconds ? { sessionTtlSeconds: o.sessionTtlSeconds } : {}),
      },
      {
        // The default mode: the gateway is the authorization server (gateway-issued tokens, refresh families).
        name: 'gw',
        oauth: {
          keycloak: { issuer: env.KEYCLOAK_ISSUER, clientId: env.GATEWAY_CLIENT_ID, clientSecret: env.GATEWAY_CLIENT_SECRET, caFile: env.STACK_CA_FILE },
          registration: { policy: 'open' },
          tokens: { ...o.facade },
        },
        exchange,
        clusters: [{ name: 'stack', workers: o.workers, audience: env.KUBE_AUDIENCE, exchangeScopes: env.KUBE_AUDIENCE_SCOPE ? [env.KUBE_AUDIENCE_SCOPE] : [] }],
        rateLimits: { perUser: { requests: 1_000_000 }, perClient: { requests: 1_000_000 } },
      },
    ],
  };
}

function gatewayReplica(index: number, port: number, configFile: string, extra: Pick<TopologyOptions, 'gatewayNodeArgs' | 'gatewayEnv'> = {}): GatewayReplica & { start(): Promise<void> } {
  const base = `http://127.0.0.1:${port}`;
  let proc: ChildProcess | undefined;
  const healthLog: LogLine[] = [];
  const start = async () => {
    const child = spawn(process.execPath, [...(extra.gatewayNodeArgs ?? []), path.join(repoRoot, 'gateway/dist/main.js'), '--config', configFile, '--port', String(port)], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { PATH: process.env.PATH ?? '', ...extra.gatewayEnv },
    });
    proc = child;
    let partial = '';
    child.stdout!.on('data', (c: Buffer) => {
      const lines = (partial + c.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        if (!l.includes('worker')) continue;
        try {
          const parsed = JSON.parse(l) as LogLine;
          if (/worker (health changed|unreachable)/.test(parsed.msg)) healthLog.push(parsed);
        } catch {
          /* not a JSON line */
        }
      }
    });
    await until(`gateway replica ${index} to answer /healthz`, async () => {
      if (child.exitCode !== null) throw new Error(`gateway replica ${index} exited with ${child.exitCode}`);
      return fetch(`${base}/healthz`).then((r) => r.ok, () => false);
    }, 30_000, 100);
  };
  const running = () => !!proc && proc.exitCode === null && proc.signalCode === null;
  return {
    index,
    base,
    healthLog,
    start,
    pid: () => proc?.pid,
    running,
    async kill(signal) {
      if (!running()) return;
      const exited = new Promise((r) => proc!.once('exit', r));
      proc!.kill(signal);
      await exited;
    },
    async restart() {
      if (running()) throw new Error(`gateway replica ${index} is still running`);
      await start();
    },
    async metric(name) {
      const text = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text(), () => '');
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
      return m ? Number(m[1]) : NaN;
    },
  };
}

export async function startTopology(env: StackEnv, opts: TopologyOptions = {}): Promise<Topology> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kmg-chaos-'));
  const stops: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => undefined);
  };
  try {
    let redisUrl = opts.redisUrl;
    if (!redisUrl) {
      const redisProc = await startRedis(dir);
      stops.push(() => void (redisProc.proc.exitCode === null && redisProc.proc.kill('SIGKILL')));
      redisUrl = redisProc.url;
    }
    // The gateway's own client factory, so a redis-sentinel:// URL works too; no prefix (scenarios read raw keys).
    const redis = createRedisClient({ url: redisUrl, keyPrefix: '', redisOptions: { maxRetriesPerRequest: 1 } }) as Redis;
    redis.on('error', () => undefined);
    stops.push(() => redis.disconnect());
    const workers = await startWorkers(env, 2);
    stops.push(() => workers.stop());
    await ensure(adminRest(env), `/apis/apps/v1/namespaces/${LONG_CALL_TARGET.namespace}/deployments`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: LONG_CALL_TARGET.name, namespace: LONG_CALL_TARGET.namespace },
      spec: { replicas: 1, selector: { matchLabels: { app: LONG_CALL_TARGET.name } }, template: { metadata: { labels: { app: LONG_CALL_TARGET.name } }, spec: { containers: [{ name: 'app', image: 'registry.invalid/chaos:1' }] } } },
    });
    const lb = await startBalancer();
    stops.push(() => lb.close());
    const keyPrefix = `kmg-chaos-${randomBytes(3).toString('hex')}:`;
    const config = gatewayConfigFor(env, { ...opts, publicUrl: lb.url, redisUrl, keyPrefix, encryptionKey: randomBytes(32).toString('base64'), workers: workers.urls });
    const configFile = path.join(dir, 'gateway.yaml');
    writeFileSync(configFile, stringify(config), { mode: 0o600 });
    const gateways = [gatewayReplica(0, await freePort(), configFile, opts), gatewayReplica(1, await freePort(), configFile, opts)];
    stops.push(() => Promise.all(gateways.map((g) => g.kill('SIGKILL'))).then(() => undefined));
    await Promise.all(gateways.map((g) => g.start()));
    lb.setBackends(gateways.map((g) => g.base));
    return { mcpUrl: `${lb.url}/orgs/rs/mcp`, gwIssuer: `${lb.url}/orgs/gw`, gateways, workers, lb, redis, keyPrefix, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Resident set size (bytes) and open file descriptors of a process, from /proc. */
export function processStats(pid: number): { rssBytes: number; fds: number } {
  let rssBytes = NaN;
  let fds = NaN;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    if (m) rssBytes = Number(m[1]) * 1024;
    fds = readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    /* exited */
  }
  return { rssBytes, fds };
}
