// Operations of the real processes (node gateway/dist/main.js, node worker/dist/main.js) over the real
// stack: /metrics after a tool call, /readyz following Redis (our own redis-server, not the shared one),
// the audit stream, graceful shutdown during a long call, and a bad config file refused at start.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { sdkClient, startWorkers, tapWorker, type Tap } from '../gateway-mcp/harness.js';
import { freePort } from '../stack/component.js';
import { loadStackEnv, repoRoot, type StackEnv } from '../stack/env.js';
import { userToken } from '../support/keycloak-tokens.js';
import { readAuditLines } from '../support/audit-lines.js';

const gatewayMain = path.join(repoRoot, 'gateway', 'dist', 'main.js');
const workerMain = path.join(repoRoot, 'worker', 'dist', 'main.js');


async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A redis-server of this suite on a fixed port, so it can be stopped and started again at the same address. */
class OwnRedis {
  proc: ChildProcess | undefined;
  constructor(readonly port: number) {}
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor('redis', () => new Promise((resolve) => {
      const s = net.connect(this.port, '127.0.0.1', () => (s.end(), resolve(true)));
      s.on('error', () => resolve(false));
    }));
  }
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise((r) => (p.once('exit', r), p.kill('SIGTERM')));
  }
}

interface Proc {
  proc: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function run(main: string, args: string[], env: Record<string, string> = {}): Proc {
  let stderr = '';
  const proc = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', ...env } });
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, stderr: () => stderr, exited };
}

function gatewayConfig(env: StackEnv, port: number, redisUrl: string, workers: string[], auditFile: string, opsPort?: number): Record<string, unknown> {
  const issuer = env.KEYCLOAK_ISSUER.replace(/\/$/, '');
  return {
    publicUrl: `http://127.0.0.1:${port}`,
    listen: { host: '127.0.0.1', port },
    logLevel: 'warn',
    storage: { redis: { url: redisUrl, keyPrefix: `kmg-ops-${randomBytes(3).toString('hex')}:` } },
    encryptionKeys: [{ id: 'ops', key: randomBytes(32).toString('base64') }],
    audit: { destination: auditFile },
    ops: { shutdown: { timeoutSeconds: 30 }, readiness: { timeoutMs: 1000 }, ...(opsPort ? { metrics: { port: opsPort } } : {}) },
    orgs: [
      {
        name: 'ops',
        mode: 'resource-server',
        resourceServer: { issuer: env.KEYCLOAK_ISSUER, audience: [env.GATEWAY_CLIENT_ID], caFile: env.STACK_CA_FILE },
        exchange: { tokenEndpoint: `${issuer}/protocol/openid-connect/token`, clientId: env.GATEWAY_CLIENT_ID, clientSecret: env.GATEWAY_CLIENT_SECRET, caFile: env.STACK_CA_FILE },
        // Keycloak grants the apiserver audience only through its client scope.
        clusters: [{ name: 'stack', workers, audience: env.KUBE_AUDIENCE, exchangeScopes: [(env as Record<string, unknown>).KUBE_AUDIENCE_SCOPE ?? env.KUBE_AUDIENCE], healthCheck: { intervalMs: 1000, timeoutMs: 500 } }],
        policy: { readScope: 'openid', writeScope: 'openid' },
      },
    ],
  };
}

let env: StackEnv;
let redis: OwnRedis;
let workers: Awaited<ReturnType<typeof startWorkers>>;
let tap: Tap;
let gateway: Proc;
let base: string;
/** The ops listener: /metrics and the detailed /readyz. */
let opsBase: string;
let auditFile: string;
let aliceToken: string;

beforeAll(async () => {
  env = loadStackEnv();
  redis = new OwnRedis(await freePort());
  await redis.start();
  workers = await startWorkers(env, 1);
  tap = await tapWorker(workers.urls[0]!);
  const dir = mkdtempSync(path.join(tmpdir(), 'kmg-ops-'));
  auditFile = path.join(dir, 'audit', 'audit.jsonl');
  const [port, opsPort] = [await freePort(), await freePort()];
  base = `http://127.0.0.1:${port}`;
  opsBase = `http://127.0.0.1:${opsPort}`;
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, stringify(gatewayConfig(env, port, redis.url, [tap.url], auditFile, opsPort)));
  gateway = run(gatewayMain, ['--config', file]);
  await waitFor('gateway /readyz', async () => (await fetch(`${base}/readyz`)).status === 200, 60_000);
  aliceToken = (await userToken(env, 'alice')).access_token;
}, 180_000);

afterAll(async () => {
  if (gateway?.proc.exitCode === null) gateway.proc.kill('SIGKILL');
  workers?.stop();
  await tap?.close();
  await redis?.stop();
});

describe('operations of the running processes', () => {
  it('exposes the named Prometheus series, with the tool call counted, on the gateway and the worker', async () => {
    const { client } = await sdkClient(`${base}/orgs/ops/mcp`, aliceToken);
    const result = await client.callTool({ name: 'namespaces_list', arguments: {} });
    expect(result.isError).toBeFalsy();
    // The second call is served with the exchanged token cached in memory.
    expect((await client.callTool({ name: 'namespaces_list', arguments: {} })).isError).toBeFalsy();
    await client.close();

    const gw = await (await fetch(`${opsBase}/metrics`)).text();
    expect(gw).toMatch(/kmg_tool_calls_total\{service="gateway",tool="namespaces_list",outcome="ok"\} [1-9]/);
    expect(gw).toMatch(/kmg_http_requests_total\{service="gateway",method="POST",route="\/orgs\/ops\/mcp",status="200"\} [1-9]/);
    // The SDK client opened an MCP session (initialize) on this replica.
    expect(gw).toMatch(/kmg_live_sessions [1-9]/);
    expect(gw).toMatch(/kmg_token_exchange_cache_misses_total [1-9]/);
    expect(gw).toMatch(/kmg_token_exchange_cache_hits_total\{layer="memory"\} [1-9]/);
    expect(gw).toMatch(/kmg_keycloak_request_duration_seconds_count\{operation="exchange",outcome="ok"\} [1-9]/);
    for (const series of ['http_request_duration_seconds', 'tool_call_duration_seconds', 'token_exchange_cache_hits_total', 'token_exchange_cache_misses_total', 'keycloak_request_duration_seconds', 'live_sessions', 'live_streams', 'process_resident_memory_bytes']) {
      expect(gw, series).toContain(`# TYPE kmg_${series} `);
    }
    const wk = await (await fetch(workers.urls[0]!.replace(/\/mcp$/, '/metrics'))).text();
    expect(wk).toMatch(/kmg_tool_calls_total\{service="worker",tool="namespaces_list",outcome="ok"\} [1-9]/);
  });

  it('counts a call the cluster RBAC refuses as denied', async () => {
    const bob = (await userToken(env, 'bob')).access_token;
    const { client } = await sdkClient(`${base}/orgs/ops/mcp`, bob);
    const refused = await client.callTool({ name: 'pods_delete', arguments: { namespace: 'default', name: 'kmg-ops-no-such-pod' } });
    await client.close();
    expect(refused.isError).toBe(true);
    expect(JSON.stringify(refused.content)).toMatch(/[Ff]orbidden/);
    const wk = await (await fetch(workers.urls[0]!.replace(/\/mcp$/, '/metrics'))).text();
    expect(wk).toMatch(/kmg_tool_calls_total\{service="worker",tool="pods_delete",outcome="denied"\} 1/);
  });

  it('writes an audit line per tool call to its own destination, without the token', async () => {
    await waitFor('audit line', async () => readFileSync(auditFile, 'utf8').includes('namespaces_list'), 10_000);
    const lines = readAuditLines(auditFile);
    const call = lines.find((l) => l.tool === 'namespaces_list')!;
    expect(call).toMatchObject({ type: 'audit', event: 'tool_call', org: 'ops', user: 'alice', cluster: 'stack', outcome: 'ok' });
    expect(typeof call.requestId).toBe('string');
    expect(readFileSync(auditFile, 'utf8')).not.toContain(aliceToken.slice(0, 40));
  });

  it('turns /readyz unready naming Redis when it stops, and ready again when it returns', async () => {
    await redis.stop();
    await waitFor('readyz 503', async () => (await fetch(`${base}/readyz`)).status === 503, 20_000);
    const body = (await (await fetch(`${opsBase}/readyz`)).json()) as { status: string; checks: Array<{ name: string; ok: boolean }> };
    expect(body.status).toBe('unready');
    expect(body.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['redis']);
    // Liveness is not readiness: the process must not be restarted for a dependency outage.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await redis.start();
    await waitFor('readyz 200', async () => (await fetch(`${base}/readyz`)).status === 200, 30_000);
  });

  it('on SIGTERM lets a long call finish, refuses new work, and exits 0', async () => {
    const { client } = await sdkClient(`${base}/orgs/ops/mcp`, aliceToken);
    tap.holdToolCallsMs = 3_000;
    try {
      const started = Date.now();
      const call = client.callTool({ name: 'namespaces_list', arguments: {} });
      await new Promise((r) => setTimeout(r, 800));
      gateway.proc.kill('SIGTERM');
      await waitFor('readyz to report shutdown', async () => {
        const r = await fetch(`${base}/readyz`).catch(() => undefined);
        return r === undefined || r.status === 503;
      }, 5_000);
      // The listener is closed: a new connection is refused.
      await expect(fetch(`${base}/healthz`, { headers: { connection: 'close' } })).rejects.toThrow();
      const result = await call;
      expect(result.isError).toBeFalsy();
      expect(JSON.stringify(result.content)).toContain('default');
      expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
      expect(await gateway.exited).toBe(0);
      // It left once the call was done (the client's idle notification stream did not hold it to the 30 s timeout).
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      tap.holdToolCallsMs = 0;
      await client.close().catch(() => undefined);
    }
  });
});

describe('configuration errors at start', () => {
  it('the gateway refuses a bad config file and names the key', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kmg-badcfg-'));
    const file = path.join(dir, 'gateway.yaml');
    const cfg = gatewayConfig(loadStackEnv(), 1, 'redis://127.0.0.1:1', ['http://127.0.0.1:1/mcp'], path.join(dir, 'a.jsonl'));
    (cfg.orgs as Array<Record<string, unknown>>)[0]!.name = 'Not_A_DNS_Label';
    (cfg.ops as Record<string, unknown>).shutdown = { timeoutSeconds: -5 };
    writeFileSync(file, stringify(cfg));
    const p = run(gatewayMain, ['--config', file]);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toContain('orgs.0.name');
    expect(p.stderr()).toContain('ops.shutdown.timeoutSeconds');
  });

  it('the worker refuses a bad config file and names the key', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kmg-badcfg-'));
    const file = path.join(dir, 'worker.yaml');
    writeFileSync(file, stringify({ clusters: [{ name: 'prod', server: 'https://127.0.0.1:1', identity: 'magic' }], ops: { readiness: { timeoutMs: 'soon' } } }));
    const p = run(workerMain, ['--config', file]);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toContain('clusters.0.identity');
    expect(p.stderr()).toContain('ops.readiness.timeoutMs');
  });
});
