// With the store gone, every path fails closed and says when to retry: 503 + Retry-After, never a 200, a 500 or a
// 401 that would send the user to sign in again; and nothing consumed, so the same tokens work when it is back.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createApp } from '../app.js';
import { STORE_RETRY_AFTER_SECONDS, UnavailableError } from '../http/unavailable.js';
import type { KvStore } from '../store/kv.js';
import { MemoryKvStore } from '../store/memory.js';
import { FakeIdp, frozenClock, obtainTokens, testConfig } from '../oauth/testing.js';

/** A memory store that can be switched off: every operation then fails as RedisKvStore's do when Redis is away. */
function switchableStore(inner: KvStore): KvStore & { down: boolean } {
  const s = { down: false } as KvStore & { down: boolean };
  for (const name of ['get', 'set', 'setIfAbsent', 'getDel', 'takeOnce', 'del', 'incr', 'compareAndSet', 'delIfEquals', 'expire', 'ttl', 'ping'] as const) {
    const op = (inner[name] as (...a: unknown[]) => Promise<unknown>).bind(inner);
    (s as unknown as Record<string, unknown>)[name] = (...a: unknown[]) =>
      s.down ? Promise.reject(new UnavailableError('store', 'store unavailable: connection refused', STORE_RETRY_AFTER_SECONDS)) : op(...a);
  }
  Object.assign(s, { kind: 'memory', close: () => inner.close() });
  return s;
}

function outageApp() {
  const clock = frozenClock();
  const idp = new FakeIdp(clock.now);
  const store = switchableStore(new MemoryKvStore(clock.now));
  const { app } = createApp(testConfig(), { store, logger: pino({ level: 'silent' }), now: clock.now, idpFor: () => idp });
  return { app, store };
}

const mcpCall = (app: Parameters<typeof request>[0], token: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  request(app)
    .post('/orgs/acme/mcp')
    .set({ accept: 'application/json, text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers })
    .send(body);

describe('the store unavailable', () => {
  it('answers MCP requests 503 with Retry-After, for a session request and a stateless one alike', async () => {
    const { app, store } = outageApp();
    const { tokens } = await obtainTokens(app);
    store.down = true;
    const init = await mcpCall(app, tokens.access_token, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '0' } } });
    const stateless = await mcpCall(
      app,
      tokens.access_token,
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'whoami', arguments: {}, _meta: {} } },
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'whoami' },
    );
    const withSession = await mcpCall(app, tokens.access_token, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, { 'mcp-session-id': 'a'.repeat(43) });
    for (const res of [init, stateless, withSession]) {
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe(String(STORE_RETRY_AFTER_SECONDS));
      expect(res.body.error.message).toBe('store unavailable; retry later');
      expect(res.body.result).toBeUndefined();
    }
  });

  it('answers a token refresh 503 temporarily_unavailable, and the same refresh token works once the store is back', async () => {
    const { app, store } = outageApp();
    const { client, tokens } = await obtainTokens(app);
    const refresh = () => request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.client_id });
    store.down = true;
    const down = await refresh();
    expect(down.status).toBe(503);
    expect(down.body.error).toBe('temporarily_unavailable');
    expect(down.headers['retry-after']).toBe(String(STORE_RETRY_AFTER_SECONDS));
    expect(down.body.access_token).toBeUndefined();
    store.down = false;
    const back = await refresh();
    expect(back.status).toBe(200);
    expect(back.body.refresh_token).not.toBe(tokens.refresh_token);
  });

  it('shows a 503 page with Retry-After at /authorize instead of an error 500', async () => {
    const { app, store } = outageApp();
    store.down = true;
    const res = await request(app).get('/orgs/acme/authorize').query({ client_id: 'any', response_type: 'code' });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
  });
});
