import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { agentHttpCheck, anyOfCheck, healthzHandler, httpCheck, Readiness, readyzHandler, redisCheck, runReadinessChecks, type ReadinessCheck } from './health.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const pass = (name: string): ReadinessCheck => ({ name, check: async () => {} });
const fail = (name: string, message: string): ReadinessCheck => ({ name, check: async () => Promise.reject(new Error(message)) });

describe('readiness', () => {
  it('is ready when every check passes', async () => {
    const report = await runReadinessChecks([pass('redis'), pass('keycloak')]);
    expect(report.status).toBe('ready');
    expect(report.checks.map((c) => c.name)).toEqual(['redis', 'keycloak']);
  });

  it('answers 503 naming the check that failed and why', async () => {
    const base = await listen(readyzHandler({ checks: [pass('redis'), fail('keycloak', 'connect ECONNREFUSED')] }));
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; checks: Array<{ name: string; ok: boolean; error?: string }> };
    expect(body.status).toBe('unready');
    expect(body.checks.find((c) => !c.ok)).toMatchObject({ name: 'keycloak', error: 'connect ECONNREFUSED' });
  });

  it('stays ready but reports "degraded" when only a non-critical check fails', async () => {
    const base = await listen(readyzHandler({ checks: [pass('redis'), { ...fail('keycloak', 'connect ECONNREFUSED'), critical: false }] }));
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'degraded', checks: [{ name: 'redis', ok: true }, { name: 'keycloak', ok: false, critical: false }] });
    const both = await runReadinessChecks([fail('redis', 'down'), { ...fail('keycloak', 'down'), critical: false }]);
    expect(both.status).toBe('unready');
  });

  it('times out a check that hangs, even one that ignores its abort signal', async () => {
    const hang: ReadinessCheck = { name: 'apiserver', timeoutMs: 50, check: () => new Promise(() => {}) };
    const started = Date.now();
    const report = await runReadinessChecks([hang, pass('redis')]);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(report.status).toBe('unready');
    expect(report.checks[0]).toMatchObject({ name: 'apiserver', ok: false, error: 'timed out after 50 ms' });
  });

  it('re-evaluates a function of checks on every probe', async () => {
    let healthy = false;
    const base = await listen(readyzHandler({ checks: () => [healthy ? pass('workers') : fail('workers', 'none reachable')], cacheMs: 0 }));
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    healthy = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('is unready at once while shutting down, without running checks', async () => {
    let ran = false;
    const base = await listen(readyzHandler({ checks: [{ name: 'redis', check: async () => void (ran = true) }], isShuttingDown: () => true }));
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'shutting down' });
    expect(ran).toBe(false);
  });

  it('runs the checks once for probes within the cache window, and once for concurrent probes', async () => {
    let runs = 0;
    let release: () => void = () => undefined;
    const slow: ReadinessCheck = { name: 'redis', check: () => (runs++, new Promise<void>((r) => (release = r))) };
    const readiness = new Readiness({ checks: [slow], cacheMs: 60_000 });
    const concurrent = [readiness.report(), readiness.report(), readiness.report()];
    while (runs === 0) await new Promise((r) => setImmediate(r));
    release();
    expect((await Promise.all(concurrent)).map((r) => r.status)).toEqual(['ready', 'ready', 'ready']);
    await readiness.report();
    expect(runs).toBe(1);
    // Without a cache window every probe runs them again.
    const uncached = new Readiness({ checks: [{ name: 'redis', check: async () => void runs++ }], cacheMs: 0 });
    await uncached.report();
    await uncached.report();
    expect(runs).toBe(3);
  });

  it('answers the status alone without detail, naming no check', async () => {
    const base = await listen(readyzHandler({ checks: [fail('workers:acme/prod', 'connect ECONNREFUSED 10.0.0.7:8080')] }, { detail: false }));
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ status: 'unready' });
    expect(text).not.toContain('acme');
    expect(text).not.toContain('10.0.0.7');
  });

  it('keeps /healthz alive whatever the dependencies do', async () => {
    const base = await listen(healthzHandler());
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'alive' });
  });
});

describe('ready-made checks', () => {
  it('http check passes on 2xx and names the status otherwise, without the query string', async () => {
    const base = await listen((req, res) => {
      res.statusCode = req.url?.startsWith('/ok') ? 200 : 500;
      res.end();
    });
    const report = await runReadinessChecks([httpCheck('kc', `${base}/ok`), httpCheck('worker', `${base}/bad?secret=x`)]);
    expect(report.checks[0]?.ok).toBe(true);
    expect(report.checks[1]?.error).toBe(`GET ${base}/bad answered 500`);
  });

  it('http check reports an unreachable peer', async () => {
    const report = await runReadinessChecks([httpCheck('kc', 'http://127.0.0.1:1/')]);
    expect(report.checks[0]?.ok).toBe(false);
    expect(report.checks[0]?.error).toMatch(/fetch failed|ECONNREFUSED/);
  });

  it('redis check wants PONG', async () => {
    const report = await runReadinessChecks([redisCheck({ ping: async () => 'PONG' }), redisCheck({ ping: async () => Promise.reject(new Error('Connection is closed.')) }, 'redis:b')]);
    expect(report.checks.map((c) => c.ok)).toEqual([true, false]);
    expect(report.checks[1]?.error).toBe('Connection is closed.');
  });

  it('any-of check passes while one worker of two answers and fails when none does', async () => {
    const one = await runReadinessChecks([anyOfCheck('workers', [pass('w1'), fail('w2', 'down')])]);
    expect(one.status).toBe('ready');
    const none = await runReadinessChecks([anyOfCheck('workers', [fail('w1', 'down'), fail('w2', 'down')])]);
    expect(none.checks[0]?.error).toBe('0/2 reachable: w1 (down); w2 (down)');
  });

  it('agent check counts an apiserver that refuses anonymous /readyz as up, and a 500 as down', async () => {
    let status = 403;
    const base = await listen((_req, res) => {
      res.statusCode = status;
      res.end();
    });
    const check = agentHttpCheck('apiserver:prod', new URL('/readyz', base));
    expect((await runReadinessChecks([check])).status).toBe('ready');
    status = 500;
    expect((await runReadinessChecks([check])).checks[0]?.error).toBe(`GET ${base}/readyz answered 500`);
  });
});
