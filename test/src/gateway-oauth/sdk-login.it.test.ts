// The v1 SDK's client OAuth support against the real gateway replicas, Keycloak and Chromium:
// discovery -> registration (or a client ID metadata document) -> authorize -> login + consent -> token
// -> an authenticated request to the MCP URL.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { loadStackEnv, readStackEnvRaw, type StackEnv } from '../stack/env.js';
import { browserLogin, launchBrowser } from '../support/browser-login.js';
import { InMemoryOAuthProvider, LoopbackRedirect } from '../support/oauth-client-provider.js';
import { mcpInitialize } from '../support/oauth-flow.js';

let env: StackEnv;
let mcpUrl: string;
let issuer: string;
let browser: Browser;

beforeAll(async () => {
  env = loadStackEnv();
  const raw = { ...readStackEnvRaw(), ...process.env };
  if (!raw.MCP_URL) throw new Error('MCP_URL missing from .stack/env: the gateways component is not up');
  mcpUrl = raw.MCP_URL;
  issuer = new URL(mcpUrl).origin;
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** Runs the SDK's auth() through a real browser login; returns the provider holding the tokens. */
async function sdkLogin(provider: InMemoryOAuthProvider, redirect: LoopbackRedirect, screenshot?: string) {
  expect(await auth(provider, { serverUrl: mcpUrl })).toBe('REDIRECT');
  const authorizationUrl = provider.authorizationUrls.at(-1)!;
  const responsePromise = redirect.next();
  const login = await browserLogin(browser, authorizationUrl, { username: 'alice', password: env.ALICE_PASSWORD, consent: 'approve', consentScreenshot: screenshot });
  const response = await responsePromise;
  expect(response.error).toBeUndefined();
  expect(response.iss).toBe(issuer);
  expect(await auth(provider, { serverUrl: mcpUrl, authorizationCode: response.code! })).toBe('AUTHORIZED');
  return { authorizationUrl, login };
}

describe('an MCP client signs a user in through the gateway', () => {
  it('with dynamic registration: SDK discovery, Keycloak login as alice, consent, tokens, and the SDK client lists tools through the gateway', async () => {
    const redirect = await new LoopbackRedirect().start();
    try {
      const unauthenticated = await mcpInitialize(mcpUrl);
      expect(unauthenticated.status).toBe(401);
      expect(unauthenticated.headers.get('www-authenticate')).toContain(`resource_metadata="${issuer}/.well-known/oauth-protected-resource/mcp"`);

      const provider = new InMemoryOAuthProvider(redirect.url, { client_name: 'Claude-like test client' });
      const { authorizationUrl, login } = await sdkLogin(provider, redirect, 'gateway-oauth-consent.png');
      expect(authorizationUrl.origin + authorizationUrl.pathname).toBe(`${issuer}/authorize`);
      expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorizationUrl.searchParams.get('resource')).toBe(mcpUrl);
      expect(provider.clientInfo?.client_id).toMatch(/^mcp_/);
      expect(login.consentText).toContain('Claude-like test client');
      expect(login.consentText).toContain('alice');
      expect(login.consentText).toContain('mcp:tools:read');
      expect(login.consentCsp).toContain("default-src 'none'");

      const tokens = provider.savedTokens!;
      expect(tokens.access_token).toMatch(/^mcp_at\./);
      expect(tokens.refresh_token).toMatch(/^mcp_rt\./);
      const authenticated = await mcpInitialize(mcpUrl, tokens.access_token);
      expect(authenticated.status).not.toBe(401);
      await authenticated.body?.cancel();

      // The same provider drives an SDK client session through the gateway to a worker.
      const client = new Client({ name: 'kmg-oauth-it', version: '0.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }));
      try {
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name)).toContain('pods_list');
      } finally {
        await client.close();
      }
    } finally {
      await redirect.close();
    }
  });

  it('with a client ID metadata document served by the client: no registration, same login', async () => {
    const redirect = await new LoopbackRedirect().start();
    // The stack's server certificate (SAN 127.0.0.1); the gateways trust the stack CA for documents.
    const raw = readStackEnvRaw()!;
    const docServer = https.createServer({ cert: readFileSync(raw.STACK_SERVER_CERT_FILE!), key: readFileSync(raw.STACK_SERVER_KEY_FILE!) });
    let fetched = 0;
    await new Promise<void>((resolve) => docServer.listen(0, '127.0.0.1', resolve));
    const docUrl = `https://127.0.0.1:${(docServer.address() as AddressInfo).port}/oauth/client.json`;
    docServer.on('request', (req, res) => {
      if (req.url !== '/oauth/client.json') return void res.writeHead(404).end();
      fetched++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ client_id: docUrl, client_name: 'Metadata Document Client', redirect_uris: [redirect.url], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }),
      );
    });
    try {
      const provider = new InMemoryOAuthProvider(redirect.url, {}, docUrl);
      const { login } = await sdkLogin(provider, redirect, 'gateway-oauth-consent-cimd.png');
      expect(provider.clientInfo?.client_id).toBe(docUrl);
      expect(fetched).toBeGreaterThan(0);
      expect(login.consentText).toContain('Metadata Document Client');
      const authenticated = await mcpInitialize(mcpUrl, provider.savedTokens!.access_token);
      expect(authenticated.status).not.toBe(401);
      await authenticated.body?.cancel();
    } finally {
      await redirect.close();
      await new Promise<void>((resolve) => docServer.close(() => resolve()));
    }
  });
});
