// The development identity provider as the gateway uses it (authorization code + PKCE, confidential client),
// driven through Chromium: it asks who you are on every sign-in, so a developer can sign in as dev-admin and
// then as dev-viewer in the same browser, and each code yields tokens for the user who signed in.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext } from 'playwright-core';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../stack/component.js';
import { launchBrowser } from '../support/browser-login.js';
import { startDevIdp, type DevIdp } from './idp.js';
import type { DevUser } from './users.js';

const users: DevUser[] = [
  { username: 'dev-admin', password: 'dev-admin', groups: ['kmg:dev-admins'] },
  { username: 'dev-viewer', password: 'dev-viewer', groups: ['kmg:dev-viewers'] },
];
let idp: DevIdp;
let browser: Browser;
let context: BrowserContext;
let callback: http.Server;
let redirectUri: string;
const codes: string[] = [];

beforeAll(async () => {
  callback = http.createServer((req, res) => {
    const code = new URL(req.url ?? '/', 'http://x').searchParams.get('code');
    if (code) codes.push(code);
    res.end('ok');
  });
  await new Promise<void>((r) => callback.listen(0, '127.0.0.1', r));
  redirectUri = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
  idp = await startDevIdp({ port: await freePort(), users, redirectUris: [redirectUri] });
  browser = await launchBrowser();
  context = await browser.newContext();
});

afterAll(async () => {
  await browser?.close();
  await idp?.close();
  callback?.close();
});

async function signIn(username: string): Promise<Record<string, unknown>> {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${idp.issuer}/auth`);
  for (const [k, v] of Object.entries({
    response_type: 'code', client_id: idp.clientId, redirect_uri: redirectUri, scope: 'openid profile offline_access', prompt: 'consent',
    state: randomBytes(8).toString('hex'), code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  })) url.searchParams.set(k, v);
  const page = await context.newPage();
  const before = codes.length;
  await page.goto(String(url));
  // The form is there even though the browser has the previous user's session.
  await page.fill('input[name=username]', username, { timeout: 10_000 });
  await page.fill('input[name=password]', username);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.toString().startsWith(redirectUri), { timeout: 30_000 });
  await page.close();
  expect(codes.length).toBe(before + 1);
  const res = await fetch(`${idp.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${idp.clientId}:${idp.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: codes.at(-1)!, redirect_uri: redirectUri, code_verifier: verifier }),
  });
  expect(res.status).toBe(200);
  const tokens = (await res.json()) as { id_token: string; refresh_token?: string };
  expect(tokens.refresh_token).toBeTruthy();
  return decodeJwt(tokens.id_token);
}

describe('development identity provider', () => {
  it('signs in dev-admin, then dev-viewer in the same browser, each token naming who signed in', async () => {
    expect((await signIn('dev-admin')).sub).toBe('dev-admin');
    expect((await signIn('dev-viewer')).sub).toBe('dev-viewer');
  });

  it('refuses a wrong password on the form, with no code', async () => {
    const page = await context.newPage();
    const before = codes.length;
    await page.goto(`${idp.issuer}/auth?response_type=code&client_id=${idp.clientId}&redirect_uri=${encodeURIComponent(redirectUri)}&scope=openid&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`);
    await page.fill('input[name=username]', 'dev-admin');
    await page.fill('input[name=password]', 'wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await page.getByRole('alert').innerText()).toBe('Unknown user or wrong password.');
    await page.close();
    expect(codes.length).toBe(before);
  });
});
