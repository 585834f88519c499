// Through the gateway to the real stack: Keycloak tokens in (resource-server mode), RFC 8693 exchange at
// Keycloak, stateless workers, the kube-apiserver's RBAC deciding. Sessions across two replicas sharing Redis.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { jwtClaims, userToken } from '../support/keycloak-tokens.js';
import { adminRest, createPods, ensureNamespace, textOf } from '../worker/helpers.js';
import { sdkClient, sharedSecrets, startGateway, tapWorker, type Tap, type TestGateway } from './harness.js';

const NS = 'kmg-gateway-it';
let env: StackEnv;
let a: TestGateway;
let b: TestGateway;
let tap: Tap;
const tokens: Record<'alice' | 'bob' | 'carol', string> = { alice: '', bob: '', carol: '' };
const clients: Client[] = [];

async function connect(url: string, token: string, fetchImpl?: typeof fetch) {
  const c = await sdkClient(url, token, fetchImpl);
  clients.push(c.client);
  return c;
}

beforeAll(async () => {
  env = loadStackEnv();
  const admin = adminRest(env);
  await ensureNamespace(admin, NS);
  await createPods(admin, NS, 'gw', 2);
  tap = await tapWorker(env.WORKER_URLS![0]!);
  const secrets = sharedSecrets();
  a = await startGateway(env, { ...secrets, workers: [tap.url] });
  b = await startGateway(env, { ...secrets, workers: [tap.url] });
  for (const u of ['alice', 'bob', 'carol'] as const) tokens[u] = (await userToken(env, u)).access_token;
});

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await a?.close();
  await b?.close();
  await tap?.close();
});

describe('tool calls reach the cluster as the user', () => {
  it('alice lists pods through the gateway', async () => {
    const { client } = await connect(a.mcpUrl('rs'), tokens.alice);
    const res = await client.callTool({ name: 'pods_list', arguments: { namespace: NS } });
    expect(res.isError).toBeFalsy();
    expect(textOf(res)).toContain('gw-0000');
  });

  it("bob's delete is refused by the apiserver with a clear Forbidden", async () => {
    const { client } = await connect(a.mcpUrl('rs'), tokens.bob);
    const res = await client.callTool({ name: 'pods_delete', arguments: { namespace: NS, name: 'gw-0001' } });
    expect(res.isError).toBe(true);
    expect(textOf(res)).toMatch(/forbidden/i);
    expect(textOf(res)).toContain('oidc:bob');
  });

  it('carol, in no group, gets nothing', async () => {
    const { client } = await connect(a.mcpUrl('rs'), tokens.carol);
    const res = await client.callTool({ name: 'pods_list', arguments: { namespace: NS } });
    expect(res.isError).toBe(true);
    expect(textOf(res)).toMatch(/forbidden/i);
  });

  it('the worker sees an exchanged token for the apiserver (aud kubernetes, azp the gateway), never the client token', async () => {
    tap.seen.length = 0;
    const { client } = await connect(a.mcpUrl('rs'), tokens.alice);
    await client.callTool({ name: 'whoami', arguments: {} });
    expect(tap.seen.length).toBeGreaterThan(0);
    for (const h of tap.seen) {
      const bearer = String(h.authorization ?? '').replace(/^Bearer /, '');
      expect(bearer).not.toBe(tokens.alice);
      const claims = jwtClaims(bearer);
      expect([claims.aud].flat()).toContain(env.KUBE_AUDIENCE);
      expect(claims.azp).toBe(env.GATEWAY_CLIENT_ID);
      expect(claims.preferred_username).toBe('alice');
      expect(h['x-request-id']).toBeTruthy();
      expect(h.traceparent).toMatch(/^00-/);
      expect(h['mcp-session-id']).toBeUndefined();
    }
  });
});

describe('authentication at the MCP URL', () => {
  it('answers a request without a token with 401 and the resource metadata URL', async () => {
    const res = await fetch(a.mcpUrl('rs'), { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain(`resource_metadata="${a.base}/.well-known/oauth-protected-resource/orgs/rs/mcp"`);
  });

  it('publishes protected-resource metadata naming Keycloak for a resource-server org', async () => {
    const res = await fetch(`${a.base}/.well-known/oauth-protected-resource/orgs/rs/mcp`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ resource: a.mcpUrl('rs'), authorization_servers: [env.KEYCLOAK_ISSUER] });
  });

  it('answers a tampered Keycloak token with 401 invalid_token', async () => {
    const [h, p] = tokens.alice.split('.');
    const res = await fetch(a.mcpUrl('rs'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${h}.${p}.AAAA` },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('refuses a write tool to a token without mcp:tools:write with 403 naming the scope', async () => {
    const { client } = await connect(a.mcpUrl('scoped'), tokens.alice);
    await client.listTools();
    await expect(client.callTool({ name: 'pods_delete', arguments: { namespace: NS, name: 'gw-0001' } })).rejects.toThrow(/insufficient.scope.*mcp:tools:write/i);
  });
});

describe('policy', () => {
  it('a read-only org lists no write tools', async () => {
    const { client } = await connect(a.mcpUrl('ro'), tokens.alice);
    const { tools } = await client.listTools();
    expect(tools.length).toBeGreaterThan(0);
    for (const t of tools) expect(t.annotations?.readOnlyHint, t.name).toBe(true);
    expect(tools.map((t) => t.name)).not.toContain('pods_delete');
  });

  it('a token without the write scope sees only read tools', async () => {
    const { client } = await connect(a.mcpUrl('scoped'), tokens.alice);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('pods_list');
    expect(tools.map((t) => t.name)).not.toContain('resources_delete');
  });
});

describe('sessions across replicas', () => {
  it('a session opened on replica A works on replica B', async () => {
    let useB = false;
    const viaB: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (useB) url.port = new URL(b.base).port;
      return fetch(url, init);
    };
    const { client, transport } = await connect(a.mcpUrl('rs'), tokens.alice, viaB);
    expect(transport.sessionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    useB = true;
    const res = await client.callTool({ name: 'pods_list', arguments: { namespace: NS } });
    expect(textOf(res)).toContain('gw-0000');
  });

  it("another user's session id is refused", async () => {
    const { transport } = await connect(a.mcpUrl('rs'), tokens.alice);
    const res = await fetch(b.mcpUrl('rs'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${tokens.bob}`,
        'mcp-session-id': transport.sessionId!,
        'mcp-protocol-version': '2025-06-18',
      },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    });
    expect(res.status).toBe(404);
  });

  it('DELETE ends the session on every replica', async () => {
    const { transport } = await connect(a.mcpUrl('rs'), tokens.alice);
    const sid = transport.sessionId!;
    const del = await fetch(b.mcpUrl('rs'), { method: 'DELETE', headers: { authorization: `Bearer ${tokens.alice}`, 'mcp-session-id': sid } });
    expect(del.status).toBe(204);
    const after = await fetch(a.mcpUrl('rs'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${tokens.alice}`, 'mcp-session-id': sid },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    });
    expect(after.status).toBe(404);
  });

  it('a 2026-07-28 request is served without a session', async () => {
    const res = await fetch(b.mcpUrl('rs'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${tokens.alice}`,
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/list',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/list',
        params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'it', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} } },
      }),
    });
    expect(res.headers.get('mcp-session-id')).toBeNull();
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('pods_list');
  });
});
