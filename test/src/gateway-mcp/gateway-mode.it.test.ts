// The default mode end to end: an SDK client with OAuth support signs alice in through the gateway (Chromium at
// Keycloak, the gateway's consent page), calls tools with gateway-issued tokens, and keeps going after its access
// token expires: the gateway answers 401 with WWW-Authenticate, the SDK refreshes, the call succeeds.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { browserLogin, launchBrowser } from '../support/browser-login.js';
import { InMemoryOAuthProvider, LoopbackRedirect } from '../support/oauth-client-provider.js';
import { textOf } from '../worker/helpers.js';
import { sharedSecrets, startOAuthGateway, type TestGateway } from './harness.js';

const TTL = 6;
let env: StackEnv;
let gw: TestGateway;
let browser: Browser;
let redirect: LoopbackRedirect;

beforeAll(async () => {
  env = loadStackEnv();
  gw = await startOAuthGateway(env, { ...sharedSecrets(), workers: env.WORKER_URLS!, accessTokenTtlSeconds: TTL });
  browser = await launchBrowser();
  redirect = await new LoopbackRedirect().start();
});
afterAll(async () => {
  await browser?.close();
  await redirect?.close();
  await gw?.close();
});

describe('gateway-issued tokens on the MCP path', () => {
  it('alice lists pods, her access token expires, the SDK client refreshes on the 401 and continues', async () => {
    const mcpUrl = gw.mcpUrl('gw');
    const provider = new InMemoryOAuthProvider(redirect.url, { client_name: 'MCP path test client' });
    expect(await auth(provider, { serverUrl: mcpUrl })).toBe('REDIRECT');
    const next = redirect.next();
    await browserLogin(browser, provider.authorizationUrls.at(-1)!, { username: 'alice', password: env.ALICE_PASSWORD, consent: 'approve' });
    const response = await next;
    expect(await auth(provider, { serverUrl: mcpUrl, authorizationCode: response.code! })).toBe('AUTHORIZED');

    const statuses: number[] = [];
    const recording: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input instanceof Request ? input.url : input).startsWith(mcpUrl)) statuses.push(res.status);
      return res;
    };
    const client = new Client({ name: 'gateway-mode-it', version: '0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider, fetch: recording }));
    try {
      const first = await client.callTool({ name: 'pods_list', arguments: { namespace: 'kube-system' } });
      expect(first.isError, textOf(first)).toBeFalsy();
      const before = provider.savedTokens!.access_token;

      await new Promise((r) => setTimeout(r, (TTL + 2) * 1000));
      const again = await client.callTool({ name: 'whoami', arguments: {} });
      expect(textOf(again)).toContain('oidc:alice');
      expect(statuses).toContain(401);
      expect(provider.savedTokens!.access_token).not.toBe(before);
    } finally {
      await client.close();
    }
  });
});
