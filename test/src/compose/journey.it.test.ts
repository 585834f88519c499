// The compose journey, as a user runs it: `npm run compose -- up` from a clean state, then the MCP SDK's
// OAuth client with Chromium for the Keycloak login and the consent page, against the compose gateway URL
// through its load balancer. alice lists pods; bob's delete is refused by the compose cluster as oidc:bob;
// one MCP session keeps working while each gateway replica in turn is stopped, and across a restart of a
// replica; `down` leaves no container, network or volume behind. Skips (saying so) only where no container
// engine can start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { browserLogin, launchBrowser } from '../support/browser-login.js';
import { InMemoryOAuthProvider, LoopbackRedirect } from '../support/oauth-client-provider.js';
import { compose, composeDown, composeUp, PROJECT, projectContainers } from './compose.js';
import { dockerBin, ensureEngine } from './engine.js';
import { reporter, run } from './run.js';

const report = reporter();
const engineProblem = await ensureEngine(report).then(() => undefined, (err: unknown) => (err as Error).message);
if (engineProblem) process.stderr.write(`\nSKIPPING the compose journey: no container engine could start here:\n${engineProblem}\n\n`);

let env: Record<string, string>;
let browser: Browser;
const clients: Client[] = [];

type CallResult = { isError?: boolean; content?: { type: string; text?: string }[] };
const textOf = (r: CallResult) => (r.content ?? []).map((c) => c.text ?? '').join('\n');

/** Signs `user` in through the compose gateway with the SDK's OAuth client and a real browser; returns a connected client. */
async function signIn(user: 'alice' | 'bob'): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const mcpUrl = env.MCP_URL!;
  const redirect = await new LoopbackRedirect().start();
  try {
    const provider = new InMemoryOAuthProvider(redirect.url, { client_name: `compose journey (${user})`, scope: 'mcp:tools:read mcp:tools:write' });
    expect(await auth(provider, { serverUrl: mcpUrl })).toBe('REDIRECT');
    const response = redirect.next();
    await browserLogin(browser, provider.authorizationUrls.at(-1)!, { username: user, password: env[`${user.toUpperCase()}_PASSWORD`]!, consent: 'approve' });
    const r = await response;
    expect(r.error).toBeUndefined();
    expect(r.iss).toBe(new URL(mcpUrl).origin);
    expect(await auth(provider, { serverUrl: mcpUrl, authorizationCode: r.code! })).toBe('AUTHORIZED');
    const client = new Client({ name: 'kmg-compose-journey', version: '0.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
    await client.connect(transport);
    clients.push(client);
    return { client, transport };
  } finally {
    await redirect.close();
  }
}

async function alicePods(client: Client): Promise<string> {
  const res = (await client.callTool({ name: 'pods_list', arguments: { namespace: 'team-a' } })) as CallResult;
  expect(res.isError, textOf(res)).toBeFalsy();
  return textOf(res);
}

describe.skipIf(engineProblem !== undefined)('the compose stack, end to end', () => {
  beforeAll(async () => {
    await composeDown(report);
    env = await composeUp(report);
    browser = await launchBrowser();
  }, 3_600_000);

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await browser?.close();
  });

  it('alice signs in through the load balancer and lists the seeded pods', async () => {
    const { client } = await signIn('alice');
    expect(await alicePods(client)).toContain('web-7d9f8b6c5d-x2k4p');
  }, 180_000);

  it("bob's delete is refused by the compose cluster, which names him oidc:bob", async () => {
    const { client } = await signIn('bob');
    const res = (await client.callTool({ name: 'pods_delete', arguments: { namespace: 'team-a', name: 'web-7d9f8b6c5d-x2k4p' } })) as CallResult;
    expect(res.isError).toBe(true);
    expect(textOf(res)).toMatch(/forbidden/i);
    expect(textOf(res)).toContain('oidc:bob');
    // The pod is still there.
    const { client: alice } = await signIn('alice');
    expect(await alicePods(alice)).toContain('web-7d9f8b6c5d-x2k4p');
  }, 240_000);

  it('one session works through either replica and survives a replica restart mid-session', async () => {
    const { client, transport } = await signIn('alice');
    const session = transport.sessionId;
    await alicePods(client);
    // Each replica alone serves the session in turn, so the one that did not open it serves it too.
    for (const [down, up] of [['gateway-1', 'gateway-2'], ['gateway-2', 'gateway-1']] as const) {
      await compose(['stop', down]);
      try {
        expect(await alicePods(client), `${up} alone`).toContain('web-7d9f8b6c5d-x2k4p');
      } finally {
        await compose(['start', down]);
        await waitHealthy(down);
      }
    }
    // `docker compose restart` of one replica mid-session: nothing lost.
    await compose(['restart', 'gateway-1']);
    await waitHealthy('gateway-1');
    for (let i = 0; i < 4; i++) expect(await alicePods(client)).toContain('web-7d9f8b6c5d-x2k4p');
    expect(transport.sessionId).toBe(session);
  }, 600_000);

  it('down removes every container, network and volume up created', async () => {
    await composeDown(report);
    expect(await projectContainers()).toEqual([]);
    const networks = await run(dockerBin(), ['network', 'ls', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`]);
    expect(networks.stdout.trim()).toBe('');
    const volumes = await run(dockerBin(), ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`]);
    expect(volumes.stdout.trim()).toBe('');
  }, 300_000);
});

async function waitHealthy(service: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const c = (await projectContainers()).find((x) => x.Config.Labels?.['com.docker.compose.service'] === service);
    if (c?.State.Health?.Status === 'healthy') return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${service} did not turn healthy`);
}
