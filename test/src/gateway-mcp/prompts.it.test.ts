// Workflow prompts through the gateway to this checkout's workers: a 2025-06-18 session and 2026-07-28 stateless
// requests, Keycloak tokens in, the prompt's first tool call run on the stack's cluster as the user.
import type { ChildProcess } from 'node:child_process';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { userToken } from '../support/keycloak-tokens.js';
import { textOf } from '../worker/helpers.js';
import { sharedSecrets, startGateway, startWorkers, type TestGateway } from './harness.js';

let env: StackEnv;
let gw: TestGateway;
let workers: { urls: string[]; procs: ChildProcess[]; stop(): void };
const tokens: Record<'alice' | 'carol', string> = { alice: '', carol: '' };

beforeAll(async () => {
  env = loadStackEnv();
  workers = await startWorkers(env, 1);
  gw = await startGateway(env, { ...sharedSecrets(), workers: workers.urls });
  for (const u of ['alice', 'carol'] as const) tokens[u] = (await userToken(env, u)).access_token;
});

afterAll(async () => {
  await gw?.close();
  workers?.stop();
});

/** One JSON-RPC POST as a 2025-06-18 client sends it; the answer's message (JSON or one SSE event). */
async function post(token: string | undefined, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(gw.mcpUrl('rs'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const data = text.startsWith('{') ? text : text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5)).join('');
  return { status: res.status, session: res.headers.get('mcp-session-id'), message: data ? (JSON.parse(data) as { result?: Record<string, unknown>; error?: { code: number } }) : undefined };
}

const promptText = (result: Record<string, unknown> | undefined) => (result?.messages as Array<{ content: { text: string } }>).map((m) => m.content.text).join('\n');

describe('prompts through the gateway', () => {
  it('a 2025-06-18 session lists the three prompts and gets one with its tool order, without 2026 caching fields', async () => {
    const init = await post(tokens.alice, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'prompts-it', version: '0' } } });
    expect(init.status).toBe(200);
    expect(init.message?.result?.capabilities).toMatchObject({ prompts: {} });
    const h = { 'mcp-session-id': init.session!, 'mcp-protocol-version': '2025-06-18' };
    expect((await post(tokens.alice, { jsonrpc: '2.0', method: 'notifications/initialized' }, h)).status).toBe(202);
    const list = await post(tokens.alice, { jsonrpc: '2.0', id: 2, method: 'prompts/list' }, h);
    expect((list.message?.result?.prompts as Array<{ name: string }>).map((p) => p.name)).toEqual(['cluster_health_check', 'diagnose_workload', 'review_rollout']);
    expect(list.message?.result).not.toHaveProperty('ttlMs');
    const get = await post(tokens.alice, { jsonrpc: '2.0', id: 3, method: 'prompts/get', params: { name: 'diagnose_workload', arguments: { name: 'web', namespace: 'team-a' } } }, h);
    expect(promptText(get.message?.result)).toContain('1. workload_diagnose {"kind":"Deployment","name":"web","namespace":"team-a"}');
  });

  it('2026-07-28 stateless requests get prompts and caching hints on both lists, and the first step runs as the user', async () => {
    const client = new Client({ name: 'prompts-it', version: '0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new StreamableHTTPClientTransport(new URL(gw.mcpUrl('rs')), { requestInit: { headers: { authorization: `Bearer ${tokens.alice}` } } }));
    try {
      expect(await client.listPrompts()).toMatchObject({ ttlMs: 3_600_000, cacheScope: 'public' });
      expect(await client.listTools()).toMatchObject({ ttlMs: 300_000, cacheScope: 'private' });
      const text = promptText((await client.getPrompt({ name: 'review_rollout', arguments: { name: 'web', namespace: 'team-a' } })) as unknown as Record<string, unknown>);
      const first = /^1\. ([a-z_]+) (\{.*?\}):/m.exec(text)!;
      expect(first[1]).toBe('rollout_status');
      const res = await client.callTool({ name: first[1]!, arguments: JSON.parse(first[2]!) as Record<string, unknown> });
      expect(res.isError).toBeFalsy();
      expect(textOf(res)).toContain('web');
    } finally {
      await client.close();
    }
  });

  it('any signed-in user may get prompts (they read nothing from the cluster); no token is 401', async () => {
    const get = await post(tokens.carol, { jsonrpc: '2.0', id: 4, method: 'prompts/get', params: { name: 'cluster_health_check' } }, { 'mcp-protocol-version': '2025-06-18' });
    expect(get.status).toBe(200);
    expect(promptText(get.message?.result)).toContain('1. cluster_health {}');
    const anonymous = await post(undefined, { jsonrpc: '2.0', id: 5, method: 'prompts/list' });
    expect(anonymous.status).toBe(401);
  });

  it('a bad prompt argument is -32602 from the worker; a method the gateway does not decide on is -32601 from the gateway', async () => {
    const bad = await post(tokens.alice, { jsonrpc: '2.0', id: 6, method: 'prompts/get', params: { name: 'diagnose_workload', arguments: {} } }, { 'mcp-protocol-version': '2025-06-18' });
    expect(bad.message?.error?.code).toBe(-32602);
    const other = await post(tokens.alice, { jsonrpc: '2.0', id: 7, method: 'resources/list' }, { 'mcp-protocol-version': '2025-06-18' });
    expect(other.message).toMatchObject({ error: { code: -32601, message: expect.stringContaining('not served through this gateway') } });
  });
});
