import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createOps, opsConfigSchema, type Ops } from './index.js';

let server: Server | undefined;
let ops: Ops | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

async function app(redisUp: () => boolean, extra: Record<string, unknown> = {}): Promise<string> {
  ops = createOps({
    service: 'worker',
    config: opsConfigSchema.parse({ metrics: { processMetrics: false }, ...extra }),
    checks: () => [{ name: 'redis', check: async () => { if (!redisUp()) throw new Error('Connection is closed.'); } }],
  });
  const mw = ops.middleware();
  server = createServer((req, res) =>
    mw(req, res, (err) => {
      res.statusCode = err ? 500 : 200;
      res.end(JSON.stringify({ requestId: res.getHeader('x-request-id') }));
    }),
  );
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('ops middleware', () => {
  it('serves /healthz, /readyz and /metrics before the app, and traces app requests', async () => {
    let up = true;
    const base = await app(() => up, { readiness: { cacheMs: 0 } });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    up = false;
    const unready = await fetch(`${base}/readyz`);
    expect(unready.status).toBe(503);
    // The public port gives the status alone: no check names, no errors naming internal peers.
    expect(await unready.json()).toEqual({ status: 'unready' });

    const res = await fetch(`${base}/mcp`, { method: 'POST', headers: { 'x-request-id': 'abc-12345' } });
    expect(res.headers.get('x-request-id')).toBe('abc-12345');
    await res.text();
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('kmg_http_requests_total{service="worker",method="POST",route="unmatched",status="200"} 1');
    // Probes are not counted as traffic.
    expect(metrics).not.toContain('/readyz');
  });

  it('has defaults for every setting', () => {
    expect(opsConfigSchema.parse({})).toEqual({
      shutdown: { timeoutSeconds: 30, drainDelaySeconds: 0 },
      readiness: { timeoutMs: 2000, cacheMs: 1000 },
      metrics: { enabled: true, processMetrics: true },
    });
  });

  it('turns unready during the drain delay while still serving, then exits 0', async () => {
    const base = await app(() => true, { shutdown: { drainDelaySeconds: 0.3 } });
    const exits: number[] = [];
    const handle = ops!.handleShutdown([server!], { signals: [], exit: (c) => exits.push(c) });
    const closing = handle.shutdown('test');
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'shutting down' });
    // Load balancers still routing here during the delay get served, not refused.
    expect((await fetch(`${base}/mcp`, { method: 'POST', headers: { connection: 'close' } })).status).toBe(200);
    await closing;
    expect(exits).toEqual([0]);
    handle.dispose();
  });

  it('serves /metrics only on its own port when ops.metrics.port is set', async () => {
    const base = await app(() => true, { metrics: { processMetrics: false, port: 0 } });
    // The main port passes /metrics through to the app (which answers its own JSON), not the registry.
    expect(await (await fetch(`${base}/metrics`)).text()).not.toContain('kmg_');
    const metricsServer = ops!.listenMetrics('127.0.0.1')!;
    await new Promise((r) => (metricsServer.listening ? r(undefined) : metricsServer.once('listening', r)));
    const port = (metricsServer.address() as AddressInfo).port;
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('kmg_http_requests_total');
    expect((await fetch(`http://127.0.0.1:${port}/mcp`)).status).toBe(404);
    metricsServer.close();
  });

  it('serves the probes on the ops port, /readyz there naming each check, and exports each check as a metric', async () => {
    let up = false;
    await app(() => up, { metrics: { processMetrics: false, port: 0 }, readiness: { cacheMs: 0 } });
    const opsServer = ops!.listenMetrics('127.0.0.1')!;
    await new Promise((r) => (opsServer.listening ? r(undefined) : opsServer.once('listening', r)));
    const opsBase = `http://127.0.0.1:${(opsServer.address() as AddressInfo).port}`;
    expect((await fetch(`${opsBase}/healthz`)).status).toBe(200);
    const unready = await fetch(`${opsBase}/readyz`);
    expect(unready.status).toBe(503);
    expect(await unready.json()).toMatchObject({ status: 'unready', checks: [{ name: 'redis', ok: false, error: 'Connection is closed.' }] });
    expect(await (await fetch(`${opsBase}/metrics`)).text()).toContain('kmg_readiness_check_up{check="redis",critical="true"} 0');
    up = true;
    expect((await fetch(`${opsBase}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${opsBase}/metrics`)).text()).toContain('kmg_readiness_check_up{check="redis",critical="true"} 1');
    opsServer.close();
  });

  it('keeps the ops listener answering probes while draining, and closes it last', async () => {
    const base = await app(() => true, { metrics: { processMetrics: false, port: 0 }, shutdown: { drainDelaySeconds: 0.2 } });
    const opsServer = ops!.listenMetrics('127.0.0.1')!;
    await new Promise((r) => (opsServer.listening ? r(undefined) : opsServer.once('listening', r)));
    const opsBase = `http://127.0.0.1:${(opsServer.address() as AddressInfo).port}`;
    let healthzWhileDraining = 0;
    let opsOpenWhenClosing = false;
    const handle = ops!.handleShutdown([server!, opsServer], {
      signals: [],
      exit: () => undefined,
      onClose: [async () => {
        // The main listener is closed by now; the ops one still answers.
        await expect(fetch(`${base}/healthz`, { headers: { connection: 'close' } })).rejects.toThrow();
        healthzWhileDraining = (await fetch(`${opsBase}/healthz`, { headers: { connection: 'close' } })).status;
        opsOpenWhenClosing = opsServer.listening;
      }],
    });
    await handle.shutdown('test');
    expect(healthzWhileDraining).toBe(200);
    expect(opsOpenWhenClosing).toBe(true);
    expect(opsServer.listening).toBe(false);
    handle.dispose();
  });

  it('starts the ops listener for the probes even with metrics off', async () => {
    await app(() => true, { metrics: { enabled: false, port: 0 } });
    const opsServer = ops!.listenMetrics('127.0.0.1')!;
    await new Promise((r) => (opsServer.listening ? r(undefined) : opsServer.once('listening', r)));
    const opsBase = `http://127.0.0.1:${(opsServer.address() as AddressInfo).port}`;
    expect((await fetch(`${opsBase}/readyz`)).status).toBe(200);
    expect((await fetch(`${opsBase}/metrics`)).status).toBe(404);
    opsServer.close();
  });
});
