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
    const base = await app(() => up);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    up = false;
    const unready = await fetch(`${base}/readyz`);
    expect(unready.status).toBe(503);
    expect(JSON.stringify(await unready.json())).toContain('Connection is closed.');

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
      readiness: { timeoutMs: 2000 },
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
});
