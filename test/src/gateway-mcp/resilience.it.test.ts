// What must keep working when parts fail or take long: a worker killed mid-run, Keycloak unreachable,
// a tool call that streams quietly for 70 seconds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { userToken } from '../support/keycloak-tokens.js';
import { textOf } from '../worker/helpers.js';
import { cutOffProxy, sdkClient, sharedSecrets, startGateway, startWorkers, tapWorker } from './harness.js';

let env: StackEnv;
const closers: Array<() => Promise<void> | void> = [];

beforeAll(() => {
  env = loadStackEnv();
});
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

describe('worker failure', () => {
  it('killing a worker mid-run leaves later calls served by the other', async () => {
    const workers = await startWorkers(env, 2);
    closers.push(() => workers.stop());
    const gw = await startGateway(env, { ...sharedSecrets(), workers: workers.urls });
    closers.push(() => gw.close());
    const { client } = await sdkClient(gw.mcpUrl('rs'), (await userToken(env, 'alice')).access_token);
    closers.push(() => client.close());
    for (let i = 0; i < 4; i++) expect((await client.callTool({ name: 'whoami', arguments: {} })).isError).toBeFalsy();
    workers.procs[0]!.kill('SIGKILL');
    await new Promise((r) => workers.procs[0]!.once('exit', r));
    const after = [];
    for (let i = 0; i < 10; i++) after.push(await client.callTool({ name: 'whoami', arguments: {} }));
    for (const res of after) expect(textOf(res)).toContain('oidc:alice');
  });
});

describe('Keycloak unreachable', () => {
  it('cached exchanges keep working and a new user gets 503 with Retry-After', async () => {
    const proxy = await cutOffProxy(new URL(env.KEYCLOAK_URL).origin);
    const gw = await startGateway(env, { ...sharedSecrets(), workers: env.WORKER_URLS!, keycloakOrigin: proxy.origin });
    closers.push(() => gw.close());
    const alice = (await userToken(env, 'alice')).access_token;
    const bob = (await userToken(env, 'bob')).access_token;
    const { client } = await sdkClient(gw.mcpUrl('rs'), alice);
    closers.push(() => client.close());
    expect(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).toContain('oidc:alice');

    await proxy.cut();
    expect(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).toContain('oidc:alice');
    const res = await fetch(gw.mcpUrl('rs'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${bob}`, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
    });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('long calls', () => {
  it(
    'a 70-second call passes through unbroken, as an SSE stream with keep-alive comments while the worker is quiet',
    async () => {
      const tap = await tapWorker(env.WORKER_URLS![0]!);
      closers.push(() => tap.close());
      const gw = await startGateway(env, { ...sharedSecrets(), workers: [tap.url], keepAliveMs: 10_000 });
      closers.push(() => gw.close());
      const token = (await userToken(env, 'alice')).access_token;
      // The SDK client reads one copy of each response; the test reads the other, to see the comments.
      const bodies: Promise<string>[] = [];
      const teeing: typeof fetch = async (input, init) => {
        const res = await fetch(input, init);
        // POST answers only: the session's GET stream stays open for the life of the session.
        if (init?.method === 'POST' && res.headers.get('content-type')?.includes('text/event-stream')) bodies.push(res.clone().text());
        return res;
      };
      const { client } = await sdkClient(gw.mcpUrl('rs'), token, teeing);
      closers.push(() => client.close());
      await client.listTools();
      tap.holdToolCallsMs = 70_000;
      const started = Date.now();
      const res = await client.callTool({ name: 'whoami', arguments: {} }, { timeout: 120_000 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(69_000);
      expect(textOf(res)).toContain('oidc:alice');
      const streamed = (await Promise.all(bodies)).join('\n');
      expect(streamed).toContain(': keep-alive');
      expect(streamed.match(/: keep-alive/g)!.length).toBeGreaterThanOrEqual(6);
    },
    150_000,
  );
});
