// Attacks on the OAuth facade of an in-process gateway over the stack's Redis and Keycloak (alice signs in with
// Chromium): token forgery and confusion, code replay and its race, PKCE, refresh reuse and its race, redirect
// URI tricks and the error path, dynamic client registration abuse. Each attack asserts the refusal and that
// nothing leaked (no token or code in the gateway's log lines, no stack trace in the answer).
import { createHmac, randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { startStackWorker, type WorkerProcess } from '../worker/helpers.js';
import { launchBrowser } from '../support/browser-login.js';
import { userToken } from '../support/keycloak-tokens.js';
import { newPkce, refreshTokens, registerPublicClient, tokenRequest, type TokenSet } from '../support/oauth-flow.js';
import { startSecurityGateway, type SecurityGateway } from './harness.js';
import { expectNothingLeaked } from './leaks.js';
import { authorizationCode, signIn, type PendingCode } from './login.js';

let env: StackEnv;
let gw: SecurityGateway;
let worker: WorkerProcess;
let browser: Browser;
let alice: TokenSet & { clientId: string };
const answers: string[] = [];
const credentials: string[] = [];
const REDIRECT = 'http://127.0.0.1:41999/callback';
let client: string;

const issuer = () => gw.issuer('gw');
const user = () => ({ username: 'alice', password: env.ALICE_PASSWORD });

beforeAll(async () => {
  env = loadStackEnv();
  worker = await startStackWorker(env);
  gw = await startSecurityGateway(env, { workers: [worker.url] });
  browser = await launchBrowser();
  alice = await signIn(browser, issuer(), user());
  credentials.push(alice.access_token, alice.refresh_token);
  client = await registerPublicClient(issuer(), REDIRECT, 'redirect tricks');
});

afterAll(async () => {
  await browser?.close();
  await gw?.close();
  await worker?.stop();
});

/** Every attack ends with this: nothing secret in the log, nothing internal in what the attacker saw. */
function nothingLeaked(extra: { answers?: string[]; credentials?: string[] } = {}): void {
  expectNothingLeaked({ answers: [...answers, ...(extra.answers ?? [])], logs: gw.logs, secrets: [env.SEED_SECRET_VALUE, env.GATEWAY_CLIENT_SECRET], credentials: [...credentials, ...(extra.credentials ?? [])] });
}

async function mcpStatus(token: string, org = 'gw', init: RequestInit = {}): Promise<{ status: number; challenge: string; text: string }> {
  const res = await fetch(gw.mcpUrl(org), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'attacker', version: '0' } } }),
    ...init,
  });
  const text = await res.text();
  answers.push(text);
  return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '', text };
}

async function redeem(c: PendingCode, over: Record<string, string | undefined> = {}) {
  const form: Record<string, string> = { grant_type: 'authorization_code', client_id: c.clientId, code: c.code, code_verifier: c.verifier, redirect_uri: c.redirectUri };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete form[k];
    else form[k] = v;
  }
  const r = await tokenRequest(c.issuer, form);
  answers.push(JSON.stringify(r.body));
  return r;
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('token forgery and confusion at the MCP URL', () => {
  it('accepts alice\'s own token (the control for every refusal below)', async () => {
    const r = await mcpStatus(alice.access_token);
    expect(r.status, r.text).toBe(200);
  });

  it('refuses a random opaque token', async () => {
    const r = await mcpStatus(randomBytes(32).toString('base64url'));
    expect(r.status).toBe(401);
    expect(r.challenge).toContain('invalid_token');
    nothingLeaked();
  });

  it('refuses alice\'s token with one character changed', async () => {
    const t = alice.access_token;
    const forged = t.slice(0, -1) + (t.endsWith('A') ? 'B' : 'A');
    const r = await mcpStatus(forged);
    expect(r.status).toBe(401);
    nothingLeaked({ credentials: [forged] });
  });

  it('refuses the refresh token presented as an access token', async () => {
    const r = await mcpStatus(alice.refresh_token);
    expect(r.status).toBe(401);
    nothingLeaked();
  });

  it('refuses a Keycloak access token at an OAuth-facade org (issuer confusion)', async () => {
    const kc = (await userToken(env, 'alice')).access_token;
    const r = await mcpStatus(kc);
    expect(r.status).toBe(401);
    nothingLeaked({ credentials: [kc] });
  });

  it('refuses a gateway token of org gw at org locked (wrong audience)', async () => {
    const r = await mcpStatus(alice.access_token, 'locked');
    expect(r.status).toBe(401);
    expect(r.challenge).toContain('invalid_token');
    nothingLeaked();
  });

  it('refuses a gateway token of org gw at the resource-server org rs', async () => {
    const r = await mcpStatus(alice.access_token, 'rs');
    expect(r.status).toBe(401);
    nothingLeaked();
  });

  it('refuses an unsigned (alg none) JWT claiming to be alice at the resource-server org', async () => {
    const kc = (await userToken(env, 'alice')).access_token;
    const payload = JSON.parse(Buffer.from(kc.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;
    const r = await mcpStatus(forged, 'rs');
    expect(r.status).toBe(401);
    expect(r.challenge).toContain('invalid_token');
    nothingLeaked({ credentials: [kc, forged] });
  });

  it('refuses an HS256 JWT keyed with Keycloak\'s public key (algorithm confusion)', async () => {
    const kc = (await userToken(env, 'alice')).access_token;
    const [h, p] = kc.split('.') as [string, string];
    const header = { ...(JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>), alg: 'HS256' };
    const certs = await fetch(`${env.KEYCLOAK_ISSUER}/protocol/openid-connect/certs`).then((r) => r.text()).catch(() => '{}');
    const signingInput = `${b64url(header)}.${p}`;
    const forged = `${signingInput}.${createHmac('sha256', certs).update(signingInput).digest('base64url')}`;
    const r = await mcpStatus(forged, 'rs');
    expect(r.status).toBe(401);
    nothingLeaked({ credentials: [kc, forged] });
  });

  it('refuses a Keycloak token whose payload was swapped for bob\'s under alice\'s signature', async () => {
    const a = (await userToken(env, 'alice')).access_token.split('.');
    const b = (await userToken(env, 'bob')).access_token.split('.');
    const forged = `${a[0]}.${b[1]}.${a[2]}`;
    const r = await mcpStatus(forged, 'rs');
    expect(r.status).toBe(401);
    nothingLeaked({ credentials: [forged] });
  });

  it('refuses a Keycloak token with its expiry pushed forward and the signature kept', async () => {
    const [h, p, s] = (await userToken(env, 'alice')).access_token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, number>;
    const forged = `${h}.${b64url({ ...claims, exp: (claims.exp ?? 0) + 86_400 })}.${s}`;
    const r = await mcpStatus(forged, 'rs');
    expect(r.status).toBe(401);
    nothingLeaked({ credentials: [forged] });
  });

  it('refuses the access token in the query string instead of the Authorization header', async () => {
    const res = await fetch(`${gw.mcpUrl('gw')}?access_token=${encodeURIComponent(alice.access_token)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    });
    answers.push(await res.text());
    expect(res.status).toBe(401);
    nothingLeaked();
  });

  it('refuses a Basic Authorization header carrying the token', async () => {
    const res = await fetch(gw.mcpUrl('gw'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Basic ${Buffer.from(`x:${alice.access_token}`).toString('base64')}` },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    });
    answers.push(await res.text());
    expect(res.status).toBe(401);
    nothingLeaked();
  });
});

describe('authorization codes', () => {
  it('refuses a replayed authorization code and revokes the tokens the first redemption issued', async () => {
    const c = await authorizationCode(browser, issuer(), user());
    const first = await redeem(c);
    expect(first.status).toBe(200);
    const issued = first.body as unknown as TokenSet;
    const replay = await redeem(c);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect((await mcpStatus(issued.access_token)).status).toBe(401);
    expect((await refreshTokens(issuer(), c.clientId, issued.refresh_token)).status).toBe(400);
    nothingLeaked({ credentials: [c.code, issued.access_token, issued.refresh_token] });
  });

  it('answers ten concurrent redemptions of one code with at most one set of tokens, dead once the replay is seen', async () => {
    const c = await authorizationCode(browser, issuer(), user());
    const results = await Promise.all(Array.from({ length: 10 }, () => redeem(c)));
    const ok = results.filter((r) => r.status === 200).map((r) => r.body as unknown as TokenSet);
    // The replays race the first redemption: RFC 6749 §4.1.2 wants them refused and what the code issued revoked.
    expect(ok.length).toBeLessThanOrEqual(1);
    for (const r of results.filter((x) => x.status !== 200)) expect(r.body.error).toBe('invalid_grant');
    for (const t of ok) {
      expect((await mcpStatus(t.access_token)).status).toBe(401);
      expect((await refreshTokens(issuer(), c.clientId, t.refresh_token)).status).toBe(400);
    }
    nothingLeaked({ credentials: [c.code, ...ok.flatMap((t) => [t.access_token, t.refresh_token])] });
  });

  it('refuses a code redeemed with the wrong PKCE verifier', async () => {
    const c = await authorizationCode(browser, issuer(), user());
    const r = await redeem(c, { code_verifier: newPkce().verifier });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid_grant');
    nothingLeaked({ credentials: [c.code, c.verifier] });
  });

  it('refuses a code redeemed without a PKCE verifier', async () => {
    const c = await authorizationCode(browser, issuer(), user());
    const r = await redeem(c, { code_verifier: undefined });
    expect(r.status).toBe(400);
    expect(['invalid_request', 'invalid_grant']).toContain(r.body.error);
    nothingLeaked({ credentials: [c.code] });
  });

  it('refuses a code redeemed by another client, and the code is dead afterwards', async () => {
    const c = await authorizationCode(browser, issuer(), user());
    const other = await registerPublicClient(issuer(), c.redirectUri, 'thief');
    const stolen = await redeem(c, { client_id: other });
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toBe('invalid_grant');
    expect((await redeem(c)).status).toBe(400);
    nothingLeaked({ credentials: [c.code] });
  });

  it('refuses a code redeemed with a different redirect_uri', async () => {
    const c = await authorizationCode(browser, issuer(), user());
    const r = await redeem(c, { redirect_uri: 'http://127.0.0.1:1/other' });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid_grant');
    nothingLeaked({ credentials: [c.code] });
  });

  it('refuses a made-up authorization code', async () => {
    const r = await tokenRequest(issuer(), { grant_type: 'authorization_code', client_id: alice.clientId, code: randomBytes(24).toString('base64url'), code_verifier: newPkce().verifier, redirect_uri: REDIRECT });
    answers.push(JSON.stringify(r.body));
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid_grant');
    nothingLeaked();
  });
});

describe('refresh tokens', () => {
  it('refuses a rotated-out refresh token after the grace window and ends the whole family', async () => {
    const t = await signIn(browser, issuer(), user());
    const r1 = await refreshTokens(issuer(), t.clientId, t.refresh_token);
    expect(r1.status).toBe(200);
    const next = r1.body as unknown as TokenSet;
    await new Promise((r) => setTimeout(r, 3000)); // the gateway's grace window is 2 s
    const reuse = await refreshTokens(issuer(), t.clientId, t.refresh_token);
    answers.push(JSON.stringify(reuse.body));
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_grant');
    expect((await refreshTokens(issuer(), t.clientId, next.refresh_token)).status).toBe(400);
    expect((await mcpStatus(next.access_token)).status).toBe(401);
    nothingLeaked({ credentials: [t.refresh_token, next.refresh_token, next.access_token] });
  });

  it('answers ten concurrent refreshes of one token with one consistent successor (no second family)', async () => {
    const t = await signIn(browser, issuer(), user());
    const results = await Promise.all(Array.from({ length: 10 }, () => refreshTokens(issuer(), t.clientId, t.refresh_token)));
    const ok = results.filter((r) => r.status === 200).map((r) => r.body as unknown as TokenSet);
    expect(ok.length).toBeGreaterThan(0);
    expect(new Set(ok.map((b) => b.refresh_token)).size).toBe(1);
    for (const r of results.filter((x) => x.status !== 200)) expect(r.body.error).toBe('invalid_grant');
    nothingLeaked({ credentials: [t.refresh_token, ...ok.map((b) => b.refresh_token)] });
  });

  it("refuses alice's refresh token presented by another client", async () => {
    const other = await registerPublicClient(issuer(), REDIRECT, 'refresh thief');
    const r = await refreshTokens(issuer(), other, alice.refresh_token);
    answers.push(JSON.stringify(r.body));
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid_grant');
    nothingLeaked();
  });

  it("does not let another client revoke alice's token", async () => {
    const other = await registerPublicClient(issuer(), REDIRECT, 'revoker');
    const res = await fetch(`${issuer()}/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: alice.refresh_token, client_id: other }) });
    answers.push(await res.text());
    expect(res.status).toBeLessThan(500);
    const still = await mcpStatus(alice.access_token);
    expect(still.status, still.text).toBe(200);
    nothingLeaked();
  });
});

describe('PKCE at /authorize', () => {
  const authorize = async (q: Record<string, string>) => {
    const u = new URL(`${issuer()}/authorize`);
    for (const [k, v] of Object.entries({ response_type: 'code', client_id: client, redirect_uri: REDIRECT, state: 's', ...q })) u.searchParams.set(k, v);
    const res = await fetch(u, { redirect: 'manual' });
    answers.push(await res.text());
    return { status: res.status, location: res.headers.get('location') ?? '' };
  };

  it('refuses code_challenge_method=plain (PKCE downgrade)', async () => {
    const r = await authorize({ code_challenge: newPkce().verifier, code_challenge_method: 'plain' });
    expect(r.location.startsWith(env.KEYCLOAK_URL)).toBe(false);
    if (r.status === 302) expect(new URL(r.location).searchParams.get('error')).toBe('invalid_request');
    else expect(r.status).toBe(400);
    nothingLeaked();
  });

  it('refuses an authorization request without a code_challenge', async () => {
    const r = await authorize({});
    expect(r.location.startsWith(env.KEYCLOAK_URL)).toBe(false);
    if (r.status === 302) expect(new URL(r.location).searchParams.get('error')).toBe('invalid_request');
    else expect(r.status).toBe(400);
    nothingLeaked();
  });

  it('refuses a code_challenge that is not a S256 digest (too short)', async () => {
    const r = await authorize({ code_challenge: 'abc', code_challenge_method: 'S256' });
    expect(r.location.startsWith(env.KEYCLOAK_URL)).toBe(false);
    nothingLeaked();
  });
});

describe('redirect_uri tricks at /authorize (registered: http://127.0.0.1:41999/callback)', () => {
  const tricks: Array<[string, string]> = [
    ['a longer path with the registered one as prefix', 'http://127.0.0.1:41999/callback/../../evil'],
    ['a path extension', 'http://127.0.0.1:41999/callbackevil'],
    ['userinfo pointing at another host', 'http://127.0.0.1:41999@evil.example/callback'],
    ['a fragment', 'http://127.0.0.1:41999/callback#evil'],
    ['a different case in the path', 'http://127.0.0.1:41999/CALLBACK'],
    ['percent-encoded dot segments', 'http://127.0.0.1:41999/callback/%2e%2e/evil'],
    ['an encoded slash', 'http://127.0.0.1:41999/callback%2Fevil'],
    ['an extra query parameter', 'http://127.0.0.1:41999/callback?next=https://evil.example'],
    ['another host', 'https://evil.example/callback'],
    ['a backslash host trick', 'http://127.0.0.1:41999\\@evil.example/callback'],
  ];
  for (const [what, uri] of tricks) {
    it(`refuses a redirect_uri with ${what}, without redirecting there`, async () => {
      const u = new URL(`${issuer()}/authorize`);
      for (const [k, v] of Object.entries({ response_type: 'code', client_id: client, redirect_uri: uri, state: 's', code_challenge: newPkce().challenge, code_challenge_method: 'S256' })) u.searchParams.set(k, v);
      const res = await fetch(u, { redirect: 'manual' });
      const text = await res.text();
      answers.push(text);
      expect(res.status, res.headers.get('location') ?? text).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      nothingLeaked();
    });
  }

  it('does not use the error path as an open redirect (bad redirect_uri and a bad parameter together)', async () => {
    const u = new URL(`${issuer()}/authorize`);
    for (const [k, v] of Object.entries({ response_type: 'token', client_id: client, redirect_uri: 'https://evil.example/cb', state: 's' })) u.searchParams.set(k, v);
    const res = await fetch(u, { redirect: 'manual' });
    answers.push(await res.text());
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    nothingLeaked();
  });

  it('does not redirect an unknown client_id anywhere', async () => {
    const u = new URL(`${issuer()}/authorize`);
    for (const [k, v] of Object.entries({ response_type: 'code', client_id: 'no-such-client', redirect_uri: 'https://evil.example/cb', state: 's', code_challenge: newPkce().challenge, code_challenge_method: 'S256' })) u.searchParams.set(k, v);
    const res = await fetch(u, { redirect: 'manual' });
    answers.push(await res.text());
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    nothingLeaked();
  });
});

describe('dynamic client registration abuse', () => {
  const register = async (body: unknown, org = 'gw', headers: Record<string, string> = {}) => {
    const res = await fetch(`${gw.issuer(org)}/register`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await res.text();
    answers.push(text);
    return { status: res.status, text };
  };

  it('refuses a javascript: redirect URI', async () => {
    const r = await register({ redirect_uris: ['javascript:alert(document.cookie)//'], token_endpoint_auth_method: 'none' });
    expect(r.status).toBe(400);
    expect(r.text).toContain('invalid_redirect_uri');
    nothingLeaked();
  });

  it('refuses a data: redirect URI', async () => {
    const r = await register({ redirect_uris: ['data:text/html,<script>alert(1)</script>'], token_endpoint_auth_method: 'none' });
    expect(r.status).toBe(400);
    nothingLeaked();
  });

  it('refuses an http redirect URI on a public host', async () => {
    const r = await register({ redirect_uris: ['http://evil.example/cb'], token_endpoint_auth_method: 'none' });
    expect(r.status).toBe(400);
    nothingLeaked();
  });

  it('refuses a wildcard redirect URI', async () => {
    const r = await register({ redirect_uris: ['https://*.example.com/cb'], token_endpoint_auth_method: 'none' });
    expect(r.status).toBe(400);
    nothingLeaked();
  });

  it('refuses a megabyte of client metadata without a 5xx', async () => {
    const r = await register({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', client_name: 'x'.repeat(1024 * 1024) });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    nothingLeaked();
  });

  it('refuses a registration with 500 redirect URIs', async () => {
    const r = await register({ redirect_uris: Array.from({ length: 500 }, (_, i) => `http://127.0.0.1:${2000 + i}/cb`), token_endpoint_auth_method: 'none' });
    expect(r.status).toBe(400);
    nothingLeaked();
  });

  it('refuses a registration body that is not JSON without a stack trace', async () => {
    const r = await register('{"redirect_uris": [');
    expect(r.status).toBe(400);
    nothingLeaked();
  });

  it('refuses a registration without an initial access token where one is required', async () => {
    const r = await register({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }, 'locked');
    expect(r.status).toBe(401);
    nothingLeaked({ credentials: [gw.initialAccessToken] });
  });

  it('refuses a registration with a wrong initial access token', async () => {
    const r = await register({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }, 'locked', { authorization: `Bearer ${randomBytes(24).toString('base64url')}` });
    expect(r.status).toBe(401);
    nothingLeaked({ credentials: [gw.initialAccessToken] });
  });

  it('refuses a registered client whose redirect host is not on the allow list', async () => {
    const r = await register({ redirect_uris: ['https://evil.example/cb'], token_endpoint_auth_method: 'none' }, 'listed');
    expect(r.status).toBe(400);
    nothingLeaked();
  });
});

describe('the revoked session', () => {
  it('refuses alice\'s access token once her refresh token is revoked', async () => {
    const t = await signIn(browser, issuer(), user());
    const before = await mcpStatus(t.access_token);
    expect(before.status, before.text).toBe(200);
    const res = await fetch(`${issuer()}/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: t.refresh_token, client_id: t.clientId }) });
    expect(res.status).toBe(200);
    expect((await mcpStatus(t.access_token)).status).toBe(401);
    expect((await refreshTokens(issuer(), t.clientId, t.refresh_token)).status).toBe(400);
    nothingLeaked({ credentials: [t.access_token, t.refresh_token] });
  });
});
