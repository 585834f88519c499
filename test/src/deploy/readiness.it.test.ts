// One cluster's outage must not take every org down: the real worker and gateway processes
// (worker/dist, gateway/dist) over the stack, each configured with one healthy cluster and one whose
// apiserver (worker) or workers (gateway) cannot be reached. Both stay ready; the ops listener reports
// the dead cluster as degraded, by name, in /readyz and in kmg_readiness_check_up; the public port
// names nothing; a call to the dead cluster fails with an error naming it while the healthy one serves.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { sdkClient } from '../gateway-mcp/harness.js';
import { freePort } from '../stack/component.js';
import { loadStackEnv, repoRoot, type StackEnv } from '../stack/env.js';
import { kubeToken, userToken } from '../support/keycloak-tokens.js';

interface Report {
  status: string;
  checks: Array<{ name: string; ok: boolean; critical?: boolean; error?: string }>;
}


/** A closed local port: connecting to it is refused at once. */
async function deadUrl(scheme: string, suffix = ''): Promise<string> {
  return `${scheme}://127.0.0.1:${await freePort()}${suffix}`;
}

function start(main: string, config: Record<string, unknown>): { proc: ChildProcess; stderr: () => string } {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'kmg-ready-')), 'config.yaml');
  writeFileSync(file, stringify(config));
  let stderr = '';
  const proc = spawn(process.execPath, [path.join(repoRoot, main), '--config', file], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return { proc, stderr: () => stderr };
}

async function reportOf(base: string): Promise<{ status: number; body: Report }> {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as Report };
}

async function waitForReport(base: string, what: string, until: (r: Report) => boolean): Promise<Report> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await reportOf(base).catch(() => undefined);
    if (r && until(r.body)) return r.body;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(r?.body)}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

let env: StackEnv;
const procs: Array<{ proc: ChildProcess; stderr: () => string }> = [];
let worker: { url: string; ops: string; main: string };
let gateway: { base: string; ops: string };

beforeAll(async () => {
  env = loadStackEnv();
  const [wPort, wOps, gPort, gOps] = [await freePort(), await freePort(), await freePort(), await freePort()];
  worker = { url: `http://127.0.0.1:${wPort}/mcp`, ops: `http://127.0.0.1:${wOps}`, main: `http://127.0.0.1:${wPort}` };
  procs.push(start('worker/dist/main.js', {
    host: '127.0.0.1',
    port: wPort,
    logLevel: 'warn',
    clusters: [
      { name: 'stack', server: env.KUBE_APISERVER_URL, caFile: env.KUBE_CA_FILE, identity: 'bearer' },
      { name: 'gone', server: await deadUrl('https'), caFile: env.KUBE_CA_FILE, identity: 'bearer' },
    ],
    ops: { metrics: { port: wOps, processMetrics: false }, readiness: { timeoutMs: 1000 } },
  }));
  gateway = { base: `http://127.0.0.1:${gPort}`, ops: `http://127.0.0.1:${gOps}` };
  const issuer = env.KEYCLOAK_ISSUER.replace(/\/$/, '');
  procs.push(start('gateway/dist/main.js', {
    publicUrl: gateway.base,
    listen: { host: '127.0.0.1', port: gPort },
    logLevel: 'warn',
    storage: { redis: { url: env.REDIS_URL, keyPrefix: `kmg-ready-${randomBytes(3).toString('hex')}:` } },
    encryptionKeys: [{ id: 'ready', key: randomBytes(32).toString('base64') }],
    ops: { metrics: { port: gOps, processMetrics: false }, readiness: { timeoutMs: 1000 } },
    orgs: [{
      name: 'ops',
      mode: 'resource-server',
      resourceServer: { issuer: env.KEYCLOAK_ISSUER, audience: [env.GATEWAY_CLIENT_ID], caFile: env.STACK_CA_FILE },
      exchange: { tokenEndpoint: `${issuer}/protocol/openid-connect/token`, clientId: env.GATEWAY_CLIENT_ID, clientSecret: env.GATEWAY_CLIENT_SECRET, caFile: env.STACK_CA_FILE },
      clusters: [
        { name: 'stack', workers: [worker.url], audience: env.KUBE_AUDIENCE, exchangeScopes: [env.KUBE_AUDIENCE_SCOPE], healthCheck: { intervalMs: 1000, timeoutMs: 500 } },
        { name: 'down', workers: [await deadUrl('http', '/mcp')], audience: env.KUBE_AUDIENCE, exchangeScopes: [env.KUBE_AUDIENCE_SCOPE], healthCheck: { intervalMs: 1000, timeoutMs: 500 } },
      ],
      policy: { readScope: 'openid', writeScope: 'openid' },
    }],
  }));
}, 120_000);

afterAll(() => {
  for (const p of procs) if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
});

describe('one cluster down', () => {
  it('leaves the worker ready, reporting the unreachable apiserver as degraded on the ops port only', async () => {
    const report = await waitForReport(worker.ops, 'worker checks', (r) => r.checks.length === 2);
    expect(report.status).toBe('degraded');
    expect(report.checks.find((c) => c.name === 'apiserver:stack')).toMatchObject({ ok: true });
    expect(report.checks.find((c) => c.name === 'apiserver:gone')).toMatchObject({ ok: false, critical: false });
    // The Service keeps routing to this pod: its readiness probe passes.
    expect((await reportOf(worker.ops)).status).toBe(200);
    const metrics = await (await fetch(`${worker.ops}/metrics`)).text();
    expect(metrics).toContain('kmg_readiness_check_up{check="apiserver:gone",critical="false"} 0');
    expect(metrics).toContain('kmg_readiness_check_up{check="apiserver:stack",critical="false"} 1');
    // The main port answers the status alone.
    const pub = await fetch(`${worker.main}/readyz`);
    expect(pub.status).toBe(200);
    const text = await pub.text();
    expect(JSON.parse(text)).toEqual({ status: 'degraded' });
    expect(text).not.toContain('gone');
  });

  it('answers a call to the unreachable cluster with a tool error naming it, and serves the healthy one', async () => {
    const token = await kubeToken(env, 'alice');
    // A several-cluster worker serves a request on the cluster the gateway names in x-kmg-cluster.
    const pinned = (cluster: string): typeof fetch => (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('x-kmg-cluster', cluster);
      return fetch(input, { ...init, headers });
    };
    const gone = await sdkClient(worker.url, token, pinned('gone'));
    try {
      const dead = await gone.client.callTool({ name: 'namespaces_list', arguments: {} });
      expect(dead.isError).toBe(true);
      expect(JSON.stringify(dead.content)).toMatch(/cluster gone is unreachable/);
    } finally {
      await gone.client.close();
    }
    const stack = await sdkClient(worker.url, token, pinned('stack'));
    try {
      const live = await stack.client.callTool({ name: 'namespaces_list', arguments: {} });
      expect(live.isError).toBeFalsy();
      expect(JSON.stringify(live.content)).toContain('default');
    } finally {
      await stack.client.close();
    }
  });

  it('leaves the gateway ready with a cluster that has no reachable worker, reporting it by name on the ops port only', async () => {
    const report = await waitForReport(gateway.ops, 'gateway checks', (r) => r.checks.some((c) => c.name === 'workers:ops/down' && !c.ok) && r.checks.some((c) => c.name === 'workers:ops/stack' && c.ok));
    expect(report.status).toBe('degraded');
    expect(report.checks.find((c) => c.name === 'redis')).toMatchObject({ ok: true });
    expect(report.checks.find((c) => c.name === 'workers:ops/down')).toMatchObject({ ok: false, critical: false });
    expect((await reportOf(gateway.ops)).status).toBe(200);
    expect(await (await fetch(`${gateway.ops}/metrics`)).text()).toContain('kmg_readiness_check_up{check="workers:ops/down",critical="false"} 0');
    const pub = await fetch(`${gateway.base}/readyz`);
    expect(pub.status).toBe(200);
    const text = await pub.text();
    expect(JSON.parse(text)).toEqual({ status: 'degraded' });
    expect(text).not.toMatch(/workers|redis|127\.0\.0\.1/);
  });

  it('serves the org through the gateway on the healthy cluster and refuses the dead one with an error saying so', async () => {
    const token = (await userToken(env, 'alice')).access_token;
    const { client } = await sdkClient(`${gateway.base}/orgs/ops/mcp`, token);
    try {
      const live = await client.callTool({ name: 'namespaces_list', arguments: {} });
      expect(live.isError).toBeFalsy();
    } finally {
      await client.close();
    }
    const dead = await fetch(`${gateway.base}/orgs/ops/mcp/clusters/down`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'namespaces_list', arguments: {} } }),
    });
    const text = await dead.text();
    expect(text).toMatch(/no worker for this cluster could be reached|cluster down|unreachable/i);
    // Never a success for a call that did not run.
    expect(text).not.toContain('"result"');
  });
});
