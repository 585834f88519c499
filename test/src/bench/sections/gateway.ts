// Gateway section: what the MCP path costs. tools/call straight to a worker vs through a gateway process with a
// cached exchange at 1, 10 and 50 concurrent clients; Keycloak exchanges for 1,000 concurrent calls by 10 users
// across 2 gateway replicas; gateway RSS with 10,000 live sessions; Redis bytes per session.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import express from 'express';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { createLogger } from '@kmg/shared/logger';
import { configSchema } from '@kmg/gateway/config/schema';
import { sitesFor } from '@kmg/gateway/http/sites';
import { createKvStore } from '@kmg/gateway/store/index';
import { mcpRouter } from '@kmg/gateway/mcp/router';
import { createMcpRuntime, type McpRuntime } from '@kmg/gateway/mcp/runtime';
import { freePort } from '../../stack/component.js';
import { readStackEnvRaw, repoRoot, type StackEnv } from '../../stack/env.js';
import { kubeToken, userToken } from '../../support/keycloak-tokens.js';
import { percentile, type BenchContext, type BenchResult, type BenchRow, type BenchSection } from '../section.js';

const CALL = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'clusters_list', arguments: {} } });
const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } } });
const PER_LEVEL = 400;

interface Target {
  url: URL;
  headers: Record<string, string>;
}

function post(agent: http.Agent, t: Target, body: string): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      t.url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', 'content-length': Buffer.byteLength(body), ...t.headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `total` calls with `concurrency` in flight; latencies in ms and calls per second. */
async function load(t: Target, concurrency: number, total: number, body = CALL): Promise<{ lat: number[]; rps: number; failures: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const lat: number[] = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const t0 = performance.now();
        const r = await post(agent, t, body).catch(() => ({ status: 0 }));
        lat.push(performance.now() - t0);
        if (r.status !== 200) failures++;
      }
    }),
  );
  const secs = (performance.now() - started) / 1000;
  agent.destroy();
  return { lat, rps: total / secs, failures };
}

/**
 * Direct and gateway calls interleaved in every client loop (alternating which goes first), so both paths see the
 * same machine load: on a shared machine that matters more than anything the gateway does.
 */
async function interleaved(direct: Target, via: Target, concurrency: number, perPath: number): Promise<{ d: { lat: number[]; failures: number }; g: { lat: number[]; failures: number } }> {
  const agentD = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const agentG = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const d = { lat: [] as number[], failures: 0 };
  const g = { lat: [] as number[], failures: 0 };
  let next = 0;
  const once = async (agent: http.Agent, t: Target, into: { lat: number[]; failures: number }) => {
    const t0 = performance.now();
    const r = await post(agent, t, CALL).catch(() => ({ status: 0 }));
    into.lat.push(performance.now() - t0);
    if (r.status !== 200) into.failures++;
  };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < perPath) {
        const i = next++;
        if (i % 2) {
          await once(agentD, direct, d);
          await once(agentG, via, g);
        } else {
          await once(agentG, via, g);
          await once(agentD, direct, d);
        }
      }
    }),
  );
  agentD.destroy();
  agentG.destroy();
  return { d, g };
}

/**
 * A production-like gateway: audit records written to a file and both rate-limit counters kept in Redis on
 * every request (with limits high enough never to refuse a bench call), so their cost is in the figures.
 */
function gatewayConfig(env: StackEnv, base: string, workers: string[], keyPrefix: string, encryptionKey: string, auditFile = 'off'): Record<string, unknown> {
  const issuer = env.KEYCLOAK_ISSUER;
  return {
    publicUrl: base,
    logLevel: 'warn',
    storage: { redis: { url: env.REDIS_URL, keyPrefix } },
    encryptionKeys: [{ id: 'bench', key: encryptionKey }],
    audit: { destination: auditFile },
    orgs: [
      {
        name: 'rs',
        mode: 'resource-server',
        resourceServer: { issuer, audience: [env.GATEWAY_CLIENT_ID], caFile: env.STACK_CA_FILE },
        exchange: { tokenEndpoint: `${issuer}/protocol/openid-connect/token`, clientId: env.GATEWAY_CLIENT_ID, clientSecret: env.GATEWAY_CLIENT_SECRET, caFile: env.STACK_CA_FILE },
        clusters: [{ name: 'stack', workers, audience: env.KUBE_AUDIENCE }],
        policy: { readScope: 'openid', writeScope: 'openid' },
        rateLimits: { perUser: { requests: 1_000_000_000 }, perClient: { requests: 1_000_000_000 } },
      },
    ],
  };
}

/** User + system CPU seconds a process has used so far (/proc/{pid}/stat, clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * A deliberately instant stand-in worker: answers tools/list and tools/call from memory, so what remains of a call
 * through the gateway is the gateway's own cost.
 */
async function instantWorker(): Promise<{ url: string; close(): Promise<void> }> {
  const tools = JSON.stringify({ jsonrpc: '2.0', id: 0, result: { tools: [{ name: 'clusters_list', inputSchema: { type: 'object' }, annotations: { readOnlyHint: true } }] } });
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') return void res.end('ok');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const msg = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { id?: unknown; method?: string };
      const body = msg.method === 'tools/list' ? tools.replace('"id":0', `"id":${JSON.stringify(msg.id)}`) : JSON.stringify({ jsonrpc: '2.0', id: msg.id ?? null, result: { content: [{ type: 'text', text: 'ok' }] } });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}/mcp`, close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

async function startGatewayProcess(env: StackEnv, workers: string[], keyPrefix: string): Promise<{ base: string; child: ChildProcess; dir: string; rssMb(): number }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'kmg-bench-gw-'));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, stringify(gatewayConfig(env, base, workers, keyPrefix, randomBytes(32).toString('base64'), path.join(dir, 'audit.jsonl'))), { mode: 0o600 });
  // KMG_BENCH_GATEWAY_DIST: another build's dist directory, to compare two builds under the same bench.
  const main = path.join(process.env.KMG_BENCH_GATEWAY_DIST ?? path.join(repoRoot, 'gateway', 'dist'), 'main.js');
  // KMG_BENCH_GATEWAY_CPU_PROF: a directory for a V8 CPU profile of the gateway process (written when it exits).
  const prof = process.env.KMG_BENCH_GATEWAY_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.KMG_BENCH_GATEWAY_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, main, '--config', file, '--port', String(port)], { stdio: 'ignore', env: { PATH: process.env.PATH ?? '' } });
  const deadline = Date.now() + 30_000;
  while (!(await fetch(`${base}/healthz`).then((r) => r.ok, () => false))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('bench gateway did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    child,
    dir,
    rssMb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024,
  };
}

/** Keycloak admin REST over the stack CA; used to add bench users (bench-user-1…) when there are fewer than 10. */
async function ensureBenchUsers(env: StackEnv, count: number): Promise<Array<{ username: string; password: string }>> {
  const ca = readFileSync(env.STACK_CA_FILE);
  const call = (method: string, url: string, body: string | undefined, headers: Record<string, string>) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = https.request(url, { method, ca, headers: { ...headers, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) } }, (res) => {
        let t = '';
        res.on('data', (c: Buffer) => (t += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: t }));
      });
      req.on('error', reject);
      req.end(body);
    });
  const raw = readStackEnvRaw() ?? {};
  const adminUser = raw.KEYCLOAK_ADMIN_USER;
  const adminPassword = raw.KEYCLOAK_ADMIN_PASSWORD;
  const users = [
    { username: 'alice', password: env.ALICE_PASSWORD },
    { username: 'bob', password: env.BOB_PASSWORD },
    { username: 'carol', password: env.CAROL_PASSWORD },
  ];
  if (!adminUser || !adminPassword) return users;
  const tok = await call('POST', `${env.KEYCLOAK_URL}/realms/master/protocol/openid-connect/token`, new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: adminUser, password: adminPassword }).toString(), {
    'content-type': 'application/x-www-form-urlencoded',
  });
  if (tok.status !== 200) return users;
  const admin = (JSON.parse(tok.text) as { access_token: string }).access_token;
  for (let i = 1; users.length < count; i++) {
    const username = `bench-user-${i}`;
    const password = `bench-${i}-pw`;
    const body = JSON.stringify({ username, enabled: true, email: `${username}@bench.invalid`, emailVerified: true, firstName: 'Bench', lastName: String(i), credentials: [{ type: 'password', value: password, temporary: false }] });
    const r = await call('POST', `${env.KEYCLOAK_URL}/admin/realms/${env.KEYCLOAK_REALM}/users`, body, { authorization: `Bearer ${admin}`, 'content-type': 'application/json' });
    if (r.status !== 201 && r.status !== 409) break;
    users.push({ username, password });
  }
  return users;
}

/** Two in-process replicas (same Redis prefix and key), so their exchange counters can be read. */
async function exchangeCount(ctx: BenchContext, users: Array<{ username: string; password: string }>): Promise<{ exchanges: number; calls: number; failures: number }> {
  const env = ctx.env;
  const keyPrefix = `kmg-bench-${randomBytes(4).toString('hex')}:`;
  const encryptionKey = randomBytes(32).toString('base64');
  const replicas: Array<{ server: http.Server; base: string; runtime: McpRuntime; close(): Promise<void> }> = [];
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const config = configSchema.parse(gatewayConfig(env, base, env.WORKER_URLS!, keyPrefix, encryptionKey));
    const store = createKvStore({ redisUrl: env.REDIS_URL, keyPrefix });
    const refuse = async (): Promise<never> => {
      throw new Error('not used in resource-server mode');
    };
    const runtime = createMcpRuntime({ config, store, logger: createLogger('bench', { level: 'silent' }), verifier: { verify: refuse }, upstream: { subjectToken: refuse }, now: Date.now });
    const router = mcpRouter(runtime);
    const app = express();
    for (const site of sitesFor(config)) app.use(`${site.base}/mcp`, (_req, res, next) => ((res.locals.site = site), next()), router);
    const server = await new Promise<http.Server>((r) => {
      const s = app.listen(port, '127.0.0.1', () => r(s));
    });
    replicas.push({ server, base, runtime, close: async () => (await runtime.close(), server.close(), await store.close()) });
  }
  const tokens = await Promise.all(users.map(async (u) => (await userToken(env, u.username as 'alice', u.password)).access_token));
  ctx.report(`1,000 concurrent calls by ${tokens.length} users across 2 replicas`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1000 });
  const results = await Promise.all(
    Array.from({ length: 1000 }, (_, i) => post(agent, { url: new URL(`${replicas[i % 2]!.base}/orgs/rs/mcp`), headers: { authorization: `Bearer ${tokens[i % tokens.length]!}` } }, CALL).catch(() => ({ status: 0 }))),
  );
  agent.destroy();
  const exchanges = replicas.reduce((n, r) => n + r.runtime.exchanger.exchangesPerformed, 0);
  for (const r of replicas) await r.close();
  return { exchanges, calls: results.length, failures: results.filter((r) => r.status !== 200).length };
}

/** The same latency rows against the instant stand-in worker, plus the gateway's CPU time per call. */
async function instantRows(ctx: BenchContext, notes: string[]): Promise<BenchRow[]> {
  const env = ctx.env;
  const rows: BenchRow[] = [];
  const stand = await instantWorker();
  const gw = await startGatewayProcess(env, [stand.url], `kmg-bench-${randomBytes(4).toString('hex')}:`);
  try {
    const direct: Target = { url: new URL(stand.url), headers: {} };
    const via: Target = { url: new URL(`${gw.base}/orgs/rs/mcp`), headers: { authorization: `Bearer ${(await userToken(env, 'alice')).access_token}` } };
    await load(via, 4, 200);
    for (const c of [1, 10, 50]) {
      ctx.report(`tools/call to an instant worker at ${c} concurrent clients`);
      const { d, g } = await interleaved(direct, via, c, PER_LEVEL);
      if (d.failures || g.failures) notes.push(`instant worker, ${c} clients: ${d.failures} direct and ${g.failures} gateway calls failed`);
      rows.push({ metric: `instant worker: added latency p50, ${c} clients`, ours: percentile(g.lat, 50) - percentile(d.lat, 50), unit: 'ms', target: '≤ 1 ms', met: percentile(g.lat, 50) - percentile(d.lat, 50) <= 1 });
      rows.push({ metric: `instant worker: added latency p99, ${c} clients`, ours: percentile(g.lat, 99) - percentile(d.lat, 99), unit: 'ms' });
    }
    const calls = 2000;
    const before = cpuSeconds(gw.child.pid!);
    await load(via, 10, calls);
    const usPerCall = ((cpuSeconds(gw.child.pid!) - before) * 1e6) / calls;
    rows.push({ metric: 'gateway CPU per tools/call (instant worker, 10 clients)', ours: usPerCall, unit: 'µs' });
  } finally {
    gw.child.kill('SIGTERM');
    await new Promise((r) => (gw.child.exitCode !== null ? r(undefined) : gw.child.once('exit', r)));
    rmSync(gw.dir, { recursive: true, force: true });
    await stand.close();
  }
  return rows;
}

const gatewaySection: BenchSection = {
  name: 'gateway',
  async run(ctx: BenchContext): Promise<BenchResult> {
    const env = ctx.env;
    const worker = env.WORKER_URLS?.[0];
    if (!worker) throw new Error('WORKER_URLS is missing: the stack has no workers');
    const rows: BenchRow[] = [];
    const notes: string[] = [];
    const keyPrefix = `kmg-bench-${randomBytes(4).toString('hex')}:`;
    const gw = await startGatewayProcess(env, [worker], keyPrefix);
    try {
      const direct: Target = { url: new URL(worker), headers: { authorization: `Bearer ${await kubeToken(env, 'alice')}` } };
      const via: Target = { url: new URL(`${gw.base}/orgs/rs/mcp`), headers: { authorization: `Bearer ${(await userToken(env, 'alice')).access_token}` } };
      // Warm both paths (the gateway's first call exchanges; later ones hit the cache).
      await load(direct, 4, 100);
      await load(via, 4, 100);
      for (const c of [1, 10, 50]) {
        ctx.report(`tools/call at ${c} concurrent clients`);
        const { d, g } = await interleaved(direct, via, c, PER_LEVEL);
        if (d.failures || g.failures) notes.push(`${c} clients: ${d.failures} direct and ${g.failures} gateway calls failed`);
        const p50 = percentile(g.lat, 50) - percentile(d.lat, 50);
        const p99 = percentile(g.lat, 99) - percentile(d.lat, 99);
        // Closed loop: each client's rate is 1 / its mean latency, so the throughput ratio is the mean-latency ratio.
        const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
        const dRps = (c * 1000) / mean(d.lat);
        const gRps = (c * 1000) / mean(g.lat);
        const p99Target = c >= 50 ? 20 : 5;
        const ratioTarget = c === 1 ? 0.8 : 0.9;
        rows.push({ metric: `tools/call added latency p50, ${c} clients`, ours: p50, unit: 'ms', target: '≤ 1 ms', met: p50 <= 1 });
        rows.push({ metric: `tools/call added latency p99, ${c} clients`, ours: p99, unit: 'ms', target: `≤ ${p99Target} ms`, met: p99 <= p99Target });
        rows.push({ metric: `tools/call throughput, ${c} clients`, ours: gRps, baseline: dRps, baselineName: 'worker direct', unit: 'calls/s', ratio: gRps / dRps, target: `ratio ≥ ${ratioTarget}`, met: gRps / dRps >= ratioTarget });
      }

      ctx.report('opening 10,000 sessions');
      const rssBefore = gw.rssMb();
      const opened = await load(via, 50, 10_000, INIT);
      const rssAfter = gw.rssMb();
      rows.push({ metric: 'gateway RSS with 10,000 live sessions', ours: rssAfter, baseline: rssBefore, baselineName: 'before sessions', unit: 'MB', target: '≤ 150 MB', met: rssAfter <= 150 });
      if (opened.failures) notes.push(`${opened.failures} of 10,000 initialize requests failed`);

      const redis = new Redis(env.REDIS_URL);
      try {
        const [, keys] = await redis.scan('0', 'MATCH', `${keyPrefix}mcps:*`, 'COUNT', 1000);
        const sizes = await Promise.all(keys.slice(0, 200).map((k) => redis.call('MEMORY', 'USAGE', k, 'SAMPLES', '0') as Promise<number>));
        const avg = sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length);
        rows.push({ metric: 'Redis bytes per session (MEMORY USAGE)', ours: avg, unit: 'bytes', target: '≤ 2048', met: avg <= 2048 });
        const all = await redis.keys(`${keyPrefix}*`);
        if (all.length) await redis.del(...all);
      } finally {
        redis.disconnect();
      }
    } finally {
      gw.child.kill('SIGTERM');
      await new Promise((r) => (gw.child.exitCode !== null ? r(undefined) : gw.child.once('exit', r)));
      rmSync(gw.dir, { recursive: true, force: true });
    }

    rows.push(...(await instantRows(ctx, notes)));

    const users = await ensureBenchUsers(env, 10);
    const ex = await exchangeCount(ctx, users);
    rows.push({ metric: `Keycloak exchanges for 1,000 concurrent calls, ${users.length} users, 2 replicas`, ours: ex.exchanges, baseline: users.length, baselineName: 'users × audiences', unit: 'exchanges', target: '= users × audiences', met: ex.exchanges === users.length });
    if (ex.failures) notes.push(`${ex.failures} of ${ex.calls} calls in the exchange burst failed`);
    if (users.length < 10) notes.push(`only ${users.length} users could be used (Keycloak admin API unavailable)`);
    notes.push('Gateway path: resource-server mode (Keycloak token in, exchange cached), audit written to a file, both rate-limit counters kept in Redis, one worker; direct path: the same worker with the exchanged token.');
    return { rows, notes, versions: { 'kube-mcp-gateway': '0.1.0' } };
  },
};

export default gatewaySection;
