// Grants across the two gateway replicas (shared Redis), and the refusals users rely on: refresh on
// another replica, refresh-token reuse killing the family everywhere, code replay, wrong PKCE verifier,
// redirect mismatch, consent deny, revocation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { loadStackEnv, readStackEnvRaw, type StackEnv } from '../stack/env.js';
import { launchBrowser } from '../support/browser-login.js';
import { authorizeUrl, browserAuthorization, exchangeCode, mcpInitialize, newPkce, refreshTokens, registerPublicClient, tokenRequest, type TokenSet } from '../support/oauth-flow.js';

let env: StackEnv;
let browser: Browser;
let replicas: string[];
/** Both replicas share one public URL (the first), as behind a load balancer; requests go to each directly. */
let issuer: string;
const mcpOf = (base: string) => `${base}/orgs/stack/mcp`;
const orgIssuer = (base: string) => `${base}/orgs/stack`;

beforeAll(async () => {
  env = loadStackEnv();
  replicas = (process.env.GATEWAY_URLS ?? readStackEnvRaw()?.GATEWAY_URLS ?? '').split(',').filter(Boolean);
  if (replicas.length < 2) throw new Error('GATEWAY_URLS must list two replicas');
  issuer = orgIssuer(replicas[0]!);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const alice = () => ({ username: 'alice', password: env.ALICE_PASSWORD, consent: 'approve' as const });

async function signIn(): Promise<{ clientId: string; tokens: TokenSet }> {
  const a = await browserAuthorization(browser, issuer, alice());
  try {
    expect(a.response.iss).toBe(issuer);
    const t = await exchangeCode(issuer, { clientId: a.clientId, code: a.response.code!, verifier: a.verifier, redirectUri: a.redirect.url });
    expect(t.status).toBe(200);
    return { clientId: a.clientId, tokens: t.body as unknown as TokenSet };
  } finally {
    await a.redirect.close();
  }
}

async function accepted(base: string, token: string): Promise<boolean> {
  const res = await mcpInitialize(mcpOf(base), token);
  await res.body?.cancel();
  return res.status !== 401;
}

describe('grants shared by the gateway replicas', () => {
  it('refreshes on the second replica a grant issued by the first, and the new token works on both', async () => {
    const { clientId, tokens } = await signIn();
    const r = await refreshTokens(orgIssuer(replicas[1]!), clientId, tokens.refresh_token);
    expect(r.status).toBe(200);
    const next = r.body as unknown as TokenSet;
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    expect(await accepted(replicas[0]!, next.access_token)).toBe(true);
    expect(await accepted(replicas[1]!, next.access_token)).toBe(true);
  });

  it('answers the same refresh token sent to both replicas at once with one consistent new refresh token', async () => {
    const { clientId, tokens } = await signIn();
    const [a, b] = await Promise.all(replicas.map((base) => refreshTokens(orgIssuer(base), clientId, tokens.refresh_token)));
    expect([a!.status, b!.status]).toEqual([200, 200]);
    const ra = (a!.body as unknown as TokenSet).refresh_token;
    expect((b!.body as unknown as TokenSet).refresh_token).toBe(ra);
    const next = await refreshTokens(orgIssuer(replicas[1]!), clientId, ra);
    expect(next.status).toBe(200);
  });

  it('kills the whole token family on both replicas when an old refresh token is reused', async () => {
    const { clientId, tokens } = await signIn();
    const rotated = (await refreshTokens(orgIssuer(replicas[0]!), clientId, tokens.refresh_token)).body as unknown as TokenSet;
    await new Promise((r) => setTimeout(r, 2500)); // past the stack's 2 s grace window
    const reuse = await refreshTokens(orgIssuer(replicas[1]!), clientId, tokens.refresh_token);
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_grant');
    for (const base of replicas) {
      expect((await refreshTokens(orgIssuer(base), clientId, rotated.refresh_token)).body.error).toBe('invalid_grant');
      expect(await accepted(base, rotated.access_token)).toBe(false);
    }
  });
});

describe('the authorization code', () => {
  it('fails when replayed, and the replay revokes the tokens the first exchange issued', async () => {
    const a = await browserAuthorization(browser, issuer, alice());
    await a.redirect.close();
    const req = { clientId: a.clientId, code: a.response.code!, verifier: a.verifier, redirectUri: a.redirect.url };
    const first = await exchangeCode(orgIssuer(replicas[0]!), req);
    expect(first.status).toBe(200);
    const replay = await exchangeCode(orgIssuer(replicas[1]!), req);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect(await accepted(replicas[0]!, (first.body as unknown as TokenSet).access_token)).toBe(false);
  });

  it('fails with a wrong PKCE verifier', async () => {
    const a = await browserAuthorization(browser, issuer, alice());
    await a.redirect.close();
    const res = await exchangeCode(issuer, { clientId: a.clientId, code: a.response.code!, verifier: newPkce().verifier, redirectUri: a.redirect.url });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
  });
});

describe('the authorization endpoint', () => {
  it('renders an error page and does not redirect when the redirect URI does not match the registration', async () => {
    const clientId = await registerPublicClient(issuer, 'http://127.0.0.1:1/registered');
    const url = authorizeUrl(issuer, { clientId, redirectUri: 'https://attacker.example/cb', challenge: newPkce().challenge, state: 's' });
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('redirect_uri does not match');
    const page = await (await browser.newContext()).newPage();
    await page.goto(url.href);
    expect(new URL(page.url()).host).toBe(new URL(issuer).host);
    expect(await page.locator('[role=alert]').innerText()).toContain('invalid_request');
    await page.context().close();
  });

  it('returns access_denied with state and iss when the user denies consent', async () => {
    const a = await browserAuthorization(browser, issuer, { ...alice(), consent: 'deny' });
    await a.redirect.close();
    expect(a.response.error).toBe('access_denied');
    expect(a.response.code).toBeUndefined();
    expect(a.response.iss).toBe(issuer);
  });
});

describe('revocation', () => {
  it('revoking the refresh token ends the grant: the access token is refused and cannot be refreshed', async () => {
    const { clientId, tokens } = await signIn();
    expect(await accepted(replicas[0]!, tokens.access_token)).toBe(true);
    const res = await fetch(`${orgIssuer(replicas[1]!)}/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: tokens.refresh_token, client_id: clientId }) });
    expect(res.status).toBe(200);
    expect(await accepted(replicas[0]!, tokens.access_token)).toBe(false);
    expect((await tokenRequest(issuer, { grant_type: 'refresh_token', client_id: clientId, refresh_token: tokens.refresh_token })).body.error).toBe('invalid_grant');
  });
});
