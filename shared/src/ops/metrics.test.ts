import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, httpMetricsMiddleware, LiveSessions, metricsHandler, observeKeycloak, setMetricsRoute, startToolCall, trackStream } from './metrics.js';

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('metrics', () => {
  it('exposes every named series in the Prometheus text format', async () => {
    const metrics = createMetrics({ service: 'gateway', defaultMetrics: false });
    startToolCall(metrics, 'pods_list')('ok');
    metrics.exchangeCacheHits.inc({ layer: 'memory' });
    metrics.exchangeCacheMisses.inc();
    metrics.liveSessions.set(3);
    await observeKeycloak(metrics, 'exchange', async () => 'token');
    const base = await listen(metricsHandler(metrics));
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const body = await res.text();
    expect(body).toContain('kmg_tool_calls_total{service="gateway",tool="pods_list",outcome="ok"} 1');
    expect(body).toContain('kmg_tool_call_duration_seconds_count{service="gateway",tool="pods_list",outcome="ok"} 1');
    expect(body).toContain('kmg_token_exchange_cache_hits_total{layer="memory"} 1');
    expect(body).toContain('kmg_token_exchange_cache_misses_total 1');
    expect(body).toContain('kmg_keycloak_request_duration_seconds_count{operation="exchange",outcome="ok"} 1');
    expect(body).toContain('kmg_live_sessions 3');
    expect(body).toMatch(/# TYPE kmg_http_request_duration_seconds histogram/);
    expect(body).toMatch(/# TYPE kmg_live_streams gauge/);
  });

  it('keeps two registries apart so two apps can live in one process', () => {
    expect(() => {
      createMetrics({ service: 'gateway' });
      createMetrics({ service: 'worker' });
    }).not.toThrow();
  });

  it('records a tool call once even when its end is reported twice', async () => {
    const metrics = createMetrics({ service: 'worker', defaultMetrics: false });
    const end = startToolCall(metrics, 'pods_delete');
    end('denied');
    end('ok');
    const values = (await metrics.toolCalls.get()).values;
    expect(values).toEqual([{ labels: { service: 'worker', tool: 'pods_delete', outcome: 'denied' }, value: 1 }]);
  });

  it('records a failed or timed-out Keycloak call and rethrows it', async () => {
    const metrics = createMetrics({ service: 'gateway', defaultMetrics: false });
    await expect(observeKeycloak(metrics, 'refresh', async () => Promise.reject(new Error('invalid_grant')))).rejects.toThrow('invalid_grant');
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    await expect(observeKeycloak(metrics, 'exchange', async () => Promise.reject(abort))).rejects.toBe(abort);
    const text = await metrics.registry.metrics();
    expect(text).toContain('kmg_keycloak_request_duration_seconds_count{operation="refresh",outcome="error"} 1');
    expect(text).toContain('kmg_keycloak_request_duration_seconds_count{operation="exchange",outcome="timeout"} 1');
  });

  it('counts requests by route template, not by raw path', async () => {
    const metrics = createMetrics({ service: 'gateway', defaultMetrics: false });
    const mw = httpMetricsMiddleware(metrics);
    const base = await listen((req, res) =>
      mw(req, res, () => {
        if (req.url?.startsWith('/orgs/')) setMetricsRoute(res, '/orgs/:org/mcp');
        res.statusCode = req.url === '/missing' ? 404 : 200;
        res.end('x');
      }),
    );
    await fetch(`${base}/orgs/acme/mcp`, { method: 'POST' });
    await fetch(`${base}/orgs/globex/mcp`, { method: 'POST' });
    await fetch(`${base}/missing`);
    await new Promise((r) => setTimeout(r, 20));
    const text = await metrics.registry.metrics();
    expect(text).toContain('kmg_http_requests_total{service="gateway",method="POST",route="/orgs/:org/mcp",status="200"} 2');
    expect(text).toContain('kmg_http_requests_total{service="gateway",method="GET",route="unmatched",status="404"} 1');
    expect(text).not.toContain('/orgs/acme');
  });

  it('counts a live stream until the client goes away', async () => {
    const metrics = createMetrics({ service: 'gateway', defaultMetrics: false });
    const base = await listen((_req, res) => {
      trackStream(metrics, res);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': keep-alive\n\n');
    });
    const controller = new AbortController();
    const res = await fetch(`${base}/sse`, { signal: controller.signal });
    expect((await metrics.liveStreams.get()).values[0]?.value).toBe(1);
    controller.abort();
    await res.body?.cancel().catch(() => {});
    await expect.poll(async () => (await metrics.liveStreams.get()).values[0]?.value).toBe(0);
  });

  it('counts any SSE response as a live stream while it is open, whichever way its headers were written', async () => {
    const metrics = createMetrics({ service: 'gateway', defaultMetrics: false });
    const mw = httpMetricsMiddleware(metrics);
    const base = await listen((req, res) =>
      mw(req, res, () => {
        if (req.url === '/json') return void res.end('{}');
        if (req.url === '/implicit') {
          res.setHeader('content-type', 'text/event-stream');
          res.write(': open\n\n');
          return;
        }
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write(': open\n\n');
      }),
    );
    const live = async () => (await metrics.liveStreams.get()).values[0]?.value ?? 0;
    await (await fetch(`${base}/json`)).text();
    expect(await live()).toBe(0);
    const a = new AbortController();
    const b = new AbortController();
    await fetch(`${base}/explicit`, { signal: a.signal });
    await fetch(`${base}/implicit`, { signal: b.signal });
    expect(await live()).toBe(2);
    a.abort();
    b.abort();
    await expect.poll(live).toBe(0);
  });

  it('reports sessions used on this replica within their idle lifetime', async () => {
    let now = 1_000_000;
    const metrics = createMetrics({ service: 'gateway', defaultMetrics: false });
    const sessions = new LiveSessions(metrics, () => now);
    sessions.seen('a', 60);
    sessions.seen('b', 60);
    sessions.seen('c', 10);
    sessions.ended('b');
    expect(await metrics.registry.metrics()).toContain('kmg_live_sessions 2');
    now += 11_000; // c idles out
    expect(await metrics.registry.metrics()).toContain('kmg_live_sessions 1');
    sessions.seen('a', 60);
    now += 55_000; // a was used again, so still live
    expect(await metrics.registry.metrics()).toContain('kmg_live_sessions 1');
  });
});
