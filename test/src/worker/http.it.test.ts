// The worker's HTTP face against the real stack: 401s, protocol eras, and statelessness across replicas.
import { ALL_TOOLS } from '@kmg/worker/tools/index';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { kubeToken } from '../support/keycloak-tokens.js';
import { MODERN_REVISION, mcpClient, textOf, workerUrls, type Era } from './helpers.js';

let env: StackEnv;
let token: string;

beforeAll(async () => {
  env = loadStackEnv();
  token = await kubeToken(env, 'alice');
});

const listBody = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
const jsonHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('worker HTTP', () => {
  it('answers a request without credentials with 401 and WWW-Authenticate', async () => {
    const res = await fetch(workerUrls(env)[0]!, { method: 'POST', headers: jsonHeaders, body: listBody });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it('answers a token the apiserver rejects with 401 invalid_token, never a 200', async () => {
    const forged = token.slice(0, -8) + 'AAAAAAAA';
    const res = await fetch(workerUrls(env)[0]!, { method: 'POST', headers: { ...jsonHeaders, authorization: `Bearer ${forged}` }, body: listBody });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('serves a 2025-era client (initialize handshake) statelessly', async () => {
    const init = await fetch(workerUrls(env)[0]!, {
      method: 'POST',
      headers: { ...jsonHeaders, authorization: `Bearer ${token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'old', version: '1' } } }),
    });
    expect(init.status).toBe(200);
    expect(init.headers.get('mcp-session-id')).toBeNull();
    expect(await init.text()).toContain('"protocolVersion":"2025-06-18"');
    const get = await fetch(workerUrls(env)[0]!, { method: 'GET', headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` } });
    expect(get.status).toBe(405);
  });

  it('serves a 2026-07-28 client (no handshake, no session) from the same tools', async () => {
    const seen: Array<string | null> = [];
    const recording: typeof fetch = (input, init) => {
      seen.push(new Headers(init?.headers).get('mcp-protocol-version'));
      return fetch(input, init);
    };
    const client = await mcpClient(workerUrls(env)[0]!, token, recording, 'modern');
    expect((await client.listTools()).tools).toHaveLength(ALL_TOOLS.length);
    const who = await client.callTool({ name: 'whoami', arguments: {} });
    expect(who.structuredContent).toMatchObject({ username: 'oidc:alice' });
    const bad = await client.callTool({ name: 'pods_get', arguments: {} });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/^Invalid arguments for pods_get: name: required/);
    await client.close();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((v) => v === MODERN_REVISION)).toBe(true);
  });

  it('lets one client alternate between the two replicas with no session anywhere', async () => {
    const urls = workerUrls(env);
    expect(urls.length).toBeGreaterThanOrEqual(2);
    const served: string[] = [];
    let n = 0;
    // Every request of one client goes to the next replica in turn.
    const rotating: typeof fetch = (input, init) => {
      const target = new URL(urls[n++ % urls.length]!);
      served.push(target.port);
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      url.host = target.host;
      return fetch(url, init);
    };
    for (const era of ['legacy', 'modern'] as Era[]) {
      const client = await mcpClient(urls[0]!, token, rotating, era);
      for (let i = 0; i < 6; i++) {
        const res = await client.callTool({ name: 'whoami', arguments: {} });
        expect(res.structuredContent).toMatchObject({ username: 'oidc:alice' });
      }
      expect((await client.listTools()).tools.length).toBe(ALL_TOOLS.length);
      await client.close();
    }
    const ports = new Set(urls.map((u) => new URL(u).port));
    for (const p of ports) expect(served.filter((s) => s === p).length).toBeGreaterThanOrEqual(3);
  });

  it('names the field of a bad argument in an isError result (SEP-1303), and keeps -32602 for unknown tools', async () => {
    const client = await mcpClient(workerUrls(env)[1] ?? workerUrls(env)[0]!, token);
    const bad = await client.callTool({ name: 'pods_log', arguments: { namespace: 'x' } });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/^Invalid arguments for pods_log: name: required/);
    await expect(client.callTool({ name: 'pods_nope', arguments: {} })).rejects.toMatchObject({ code: -32602 });
    const res = await client.callTool({ name: 'pods_get', arguments: { name: 'nope', namespace: 'default' } });
    expect(res.isError).toBe(true);
    expect(textOf(res)).toMatch(/^NotFound: pods "nope" not found/);
    await client.close();
  });
});
