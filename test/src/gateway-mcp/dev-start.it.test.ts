// `npm start` as a new user meets it: the process comes up on embedded defaults, prints the MCP URL, and a
// dev user who signs in (Chromium: the dev identity provider's form, then the gateway's consent page) lists tools.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../stack/env.js';
import { launchBrowser } from '../support/browser-login.js';
import { LoopbackRedirect } from '../support/oauth-client-provider.js';
import { authorizeUrl, exchangeCode, newPkce, registerPublicClient } from '../support/oauth-flow.js';
import { sdkClient } from './harness.js';

let proc: ChildProcess;
let output = '';
let browser: Browser;

beforeAll(async () => {
  proc = spawn(process.execPath, [path.join(repoRoot, 'gateway', 'dist', 'dev', 'start.js')], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const deadline = Date.now() + 60_000;
  while (!/MCP URL:\s+\S+/.test(output)) {
    if (proc.exitCode !== null) throw new Error(`npm start exited ${proc.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  if (proc && proc.exitCode === null) {
    proc.kill('SIGINT');
    await new Promise((r) => proc.once('exit', r));
  }
});

describe('npm start', () => {
  it('prints the MCP URL and ready-to-paste client configs, bound to loopback', () => {
    const url = /MCP URL:\s+(\S+)/.exec(output)![1]!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    expect(output).toContain('"mcp-remote"');
    expect(output).toContain('"type": "http"');
  });

  it('answers tools/list for a dev user who signed in', async () => {
    const mcpUrl = /MCP URL:\s+(\S+)/.exec(output)![1]!;
    const issuer = mcpUrl.replace(/\/mcp$/, '');
    const redirect = await new LoopbackRedirect().start();
    try {
      const clientId = await registerPublicClient(issuer, redirect.url, 'npm start test');
      const pkce = newPkce();
      const state = randomBytes(8).toString('hex');
      const next = redirect.next();
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(String(authorizeUrl(issuer, { clientId, redirectUri: redirect.url, challenge: pkce.challenge, state })));
      await page.fill('input[name=username]', 'dev-admin');
      await page.fill('input[name=password]', 'dev-admin');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL((u) => u.pathname.endsWith('/consent'), { timeout: 30_000 });
      await page.getByRole('button', { name: 'Allow' }).click();
      const response = await next;
      await context.close();
      expect(response.state).toBe(state);
      const tokens = await exchangeCode(issuer, { clientId, code: response.code!, verifier: pkce.verifier, redirectUri: redirect.url });
      expect(tokens.status).toBe(200);
      const { client } = await sdkClient(mcpUrl, String(tokens.body.access_token));
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('pods_list');
      const who = await client.callTool({ name: 'clusters_list', arguments: {} });
      expect(who.isError).toBeFalsy();
      await client.close();
    } finally {
      await redirect.close();
    }
  });
});
