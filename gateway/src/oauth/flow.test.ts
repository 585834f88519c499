import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { InvalidTokenError } from '../auth/principal.js';
import { UnavailableError } from '../http/unavailable.js';
import { MCP_URL, REDIRECT, approveConsent, authorizeQuery, loginToConsent, obtainCode, obtainTokens, pkce, registerClient, testApp } from './testing.js';

const refresh = (app: Parameters<typeof request>[0], clientId: string, token: string) =>
  request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'refresh_token', refresh_token: token, client_id: clientId });

describe('authorization code flow', () => {
  it('logs a user in through the identity provider and consent, and the access token verifies for the MCP URL', async () => {
    const { app, deps } = testApp();
    const { tokens } = await obtainTokens(app);
    expect(tokens.access_token).toMatch(/^mcp_at\./);
    expect(tokens.scope).toBe('mcp:tools:read mcp:tools:write');
    const p = await deps.verifier.verify('acme', MCP_URL, tokens.access_token);
    expect(p).toMatchObject({ org: 'acme', sub: 'alice-sub', username: 'alice', groups: ['k8s-admins'], mode: 'gateway' });
    expect(await deps.upstream.subjectToken(p)).toBe('kc-access-0');
  });

  it('returns code, state and iss to the client after consent (RFC 9207)', async () => {
    const { app } = testApp();
    const c = await registerClient(app);
    const { redirect } = await obtainCode(app, c.client_id, pkce().challenge);
    expect(redirect.origin + redirect.pathname).toBe(REDIRECT);
    expect(redirect.searchParams.get('state')).toBe('st-123');
    expect(redirect.searchParams.get('iss')).toBe('https://gw.test/orgs/acme');
  });

  it('renders a consent page with a strict CSP, the client name, redirect host and scopes', async () => {
    const { app } = testApp();
    const c = await registerClient(app, { client_name: '<b>Evil</b> Client' });
    const l = await loginToConsent(app, c.client_id, pkce().challenge);
    const u = new URL(l.callback.headers.location!);
    const page = await request(app).get(u.pathname + u.search).set('Cookie', l.cookie);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(page.headers['content-security-policy']).toMatch(/form-action 'self' http:\/\/127\.0\.0\.1:33418/);
    expect(page.text).toContain('&lt;b&gt;Evil&lt;/b&gt; Client');
    expect(page.text).toContain('127.0.0.1:33418');
    expect(page.text).toContain('mcp:tools:write');
    expect(page.text).toMatch(/name="csrf" value="[^"]{20,}"/);
  });

  it('refuses the consent page and post from a browser without the login cookie', async () => {
    const { app } = testApp();
    const c = await registerClient(app);
    const l = await loginToConsent(app, c.client_id, pkce().challenge);
    const u = new URL(l.callback.headers.location!);
    expect((await request(app).get(u.pathname + u.search)).status).toBe(400);
    const { post } = await approveConsent(app, l.callback.headers.location!, 'kmg_login_x=nope');
    expect(post.status).toBe(403);
  });

  it('refuses a consent post with a wrong CSRF token', async () => {
    const { app } = testApp();
    const c = await registerClient(app);
    const l = await loginToConsent(app, c.client_id, pkce().challenge);
    const u = new URL(l.callback.headers.location!);
    const page = await request(app).get(u.pathname + u.search).set('Cookie', l.cookie);
    const field = (n: string) => new RegExp(`name="${n}" value="([^"]+)"`).exec(page.text)![1]!;
    const post = await request(app).post(u.pathname).type('form').set('Cookie', l.cookie).send({ id: field('id'), tx: field('tx'), csrf: 'forged', decision: 'approve' });
    expect(post.status).toBe(403);
  });

  it('sends access_denied with state and iss when the user denies consent', async () => {
    const { app } = testApp();
    const c = await registerClient(app);
    const l = await loginToConsent(app, c.client_id, pkce().challenge);
    const { post } = await approveConsent(app, l.callback.headers.location!, l.cookie, 'deny');
    expect(post.status).toBe(303);
    const back = new URL(post.headers.location!);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe('st-123');
    expect(back.searchParams.get('iss')).toBe('https://gw.test/orgs/acme');
  });

  it('remembers consent per user and client: the second login skips the page', async () => {
    const { app } = testApp();
    const c = await registerClient(app);
    await obtainCode(app, c.client_id, pkce().challenge);
    const second = await loginToConsent(app, c.client_id, pkce().challenge);
    expect(second.callback.status).toBe(302);
    expect(new URL(second.callback.headers.location!).searchParams.get('code')).toBeTruthy();
  });

  it('refuses a replayed code and revokes the tokens the first redemption issued', async () => {
    const { app, deps } = testApp();
    const c = await registerClient(app);
    const p = pkce();
    const { code } = await obtainCode(app, c.client_id, p.challenge);
    const body = { grant_type: 'authorization_code', code, code_verifier: p.verifier, client_id: c.client_id };
    const first = await request(app).post('/orgs/acme/token').type('form').send(body);
    expect(first.status).toBe(200);
    const replay = await request(app).post('/orgs/acme/token').type('form').send(body);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    await expect(deps.verifier.verify('acme', MCP_URL, first.body.access_token)).rejects.toMatchObject({ problem: 'revoked' });
    expect((await refresh(app, c.client_id, first.body.refresh_token)).body.error).toBe('invalid_grant');
  });

  it('refuses a wrong PKCE verifier and the code cannot be retried', async () => {
    const { app } = testApp();
    const c = await registerClient(app);
    const p = pkce();
    const { code } = await obtainCode(app, c.client_id, p.challenge);
    const wrong = await request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'authorization_code', code, code_verifier: pkce().verifier, client_id: c.client_id });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ error: 'invalid_grant' });
    const right = await request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'authorization_code', code, code_verifier: p.verifier, client_id: c.client_id });
    expect(right.body.error).toBe('invalid_grant');
  });

  it('expires codes after their lifetime', async () => {
    const { app, clock } = testApp();
    const c = await registerClient(app);
    const p = pkce();
    const { code } = await obtainCode(app, c.client_id, p.challenge);
    clock.advance(61);
    const res = await request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'authorization_code', code, code_verifier: p.verifier, client_id: c.client_id });
    expect(res.body.error).toBe('invalid_grant');
  });
});

describe('access tokens', () => {
  it('are refused after expiry, at another MCP URL and at another org', async () => {
    const { app, deps, clock } = testApp();
    const { tokens } = await obtainTokens(app);
    await expect(deps.verifier.verify('acme', 'https://gw.test/mcp', tokens.access_token)).rejects.toMatchObject({ problem: 'wrong_audience' });
    await expect(deps.verifier.verify('other', 'https://gw.test/orgs/other/mcp', tokens.access_token)).rejects.toBeInstanceOf(InvalidTokenError);
    clock.advance(901);
    await expect(deps.verifier.verify('acme', MCP_URL, tokens.access_token)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('minted at the single-org root are bound to the root MCP URL', async () => {
    const { app, deps } = testApp();
    const { tokens } = await obtainTokens(app, '');
    expect((await deps.verifier.verify('acme', 'https://gw.test/mcp', tokens.access_token)).username).toBe('alice');
    await expect(deps.verifier.verify('acme', MCP_URL, tokens.access_token)).rejects.toMatchObject({ problem: 'wrong_audience' });
  });
});

describe('refresh token grant', () => {
  it('rotates: the new pair works and the old access token keeps working until it expires', async () => {
    const { app, deps } = testApp();
    const { client, tokens } = await obtainTokens(app);
    const r = await refresh(app, client.client_id, tokens.refresh_token);
    expect(r.status).toBe(200);
    expect(r.body.refresh_token).not.toBe(tokens.refresh_token);
    expect((await deps.verifier.verify('acme', MCP_URL, r.body.access_token)).sub).toBe('alice-sub');
  });

  it('lets a client whose response was lost retry within the grace window and get the same refresh token', async () => {
    const { app, clock } = testApp();
    const { client, tokens } = await obtainTokens(app);
    const lost = await refresh(app, client.client_id, tokens.refresh_token);
    expect(lost.status).toBe(200);
    clock.advance(5);
    const retry = await refresh(app, client.client_id, tokens.refresh_token);
    expect(retry.status).toBe(200);
    expect(retry.body.refresh_token).toBe(lost.body.refresh_token);
    expect((await refresh(app, client.client_id, retry.body.refresh_token)).status).toBe(200);
  });

  it('treats reuse of a rotated-out token after the grace window as theft and revokes the whole family', async () => {
    const { app, deps, clock } = testApp();
    const { client, tokens } = await obtainTokens(app);
    const r1 = await refresh(app, client.client_id, tokens.refresh_token);
    clock.advance(11);
    const reuse = await refresh(app, client.client_id, tokens.refresh_token);
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_grant');
    expect((await refresh(app, client.client_id, r1.body.refresh_token)).body.error).toBe('invalid_grant');
    await expect(deps.verifier.verify('acme', MCP_URL, r1.body.access_token)).rejects.toMatchObject({ problem: 'revoked' });
  });

  it('gives two concurrent rotations of the same token the same new refresh token, so the family stays consistent', async () => {
    const { app } = testApp();
    const { client, tokens } = await obtainTokens(app);
    const [a, b] = await Promise.all([refresh(app, client.client_id, tokens.refresh_token), refresh(app, client.client_id, tokens.refresh_token)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.refresh_token).toBe(b.body.refresh_token);
    expect(a.body.access_token).not.toBe(b.body.access_token);
    expect((await refresh(app, client.client_id, a.body.refresh_token)).status).toBe(200);
  });

  it('refuses a refresh token presented by another client', async () => {
    const { app } = testApp();
    const { tokens } = await obtainTokens(app);
    const other = await registerClient(app);
    const r = await refresh(app, other.client_id, tokens.refresh_token);
    expect(r.body.error).toBe('invalid_grant');
  });

  it('revokes the grant when the identity provider refuses to refresh the user session', async () => {
    const { app, deps, idp, clock } = testApp();
    const { client, tokens } = await obtainTokens(app);
    const principal = await deps.verifier.verify('acme', MCP_URL, tokens.access_token);
    clock.advance(290);
    idp.refuseRefresh = true;
    await expect(deps.upstream.subjectToken(principal)).rejects.toMatchObject({ problem: 'revoked' });
    await expect(deps.verifier.verify('acme', MCP_URL, tokens.access_token)).rejects.toMatchObject({ problem: 'revoked' });
    expect((await refresh(app, client.client_id, tokens.refresh_token)).body.error).toBe('invalid_grant');
  });

  it('refreshes the upstream token once for a burst of concurrent callers', async () => {
    const { app, deps, idp, clock } = testApp();
    const { tokens } = await obtainTokens(app);
    const principal = await deps.verifier.verify('acme', MCP_URL, tokens.access_token);
    clock.advance(290);
    const all = await Promise.all(Array.from({ length: 5 }, () => deps.upstream.subjectToken(principal)));
    expect(new Set(all)).toEqual(new Set(['kc-access-1']));
    expect(idp.refreshCalls).toBe(1);
  });
});

describe('revocation (RFC 7009)', () => {
  it('revoking a refresh token ends the grant and its access tokens', async () => {
    const { app, deps } = testApp();
    const { client, tokens } = await obtainTokens(app);
    const r = await request(app).post('/orgs/acme/revoke').type('form').send({ token: tokens.refresh_token, client_id: client.client_id });
    expect(r.status).toBe(200);
    await expect(deps.verifier.verify('acme', MCP_URL, tokens.access_token)).rejects.toMatchObject({ problem: 'revoked' });
  });
  it('revoking an access token ends only that token', async () => {
    const { app, deps } = testApp();
    const { client, tokens } = await obtainTokens(app);
    await request(app).post('/orgs/acme/revoke').type('form').send({ token: tokens.access_token, token_type_hint: 'access_token', client_id: client.client_id });
    await expect(deps.verifier.verify('acme', MCP_URL, tokens.access_token)).rejects.toMatchObject({ problem: 'invalid' });
    expect((await refresh(app, client.client_id, tokens.refresh_token)).status).toBe(200);
  });
  it('answers 200 for unknown tokens and ignores tokens of other clients', async () => {
    const { app, deps } = testApp();
    const { tokens } = await obtainTokens(app);
    const other = await registerClient(app);
    const r = await request(app).post('/orgs/acme/revoke').type('form').send({ token: tokens.refresh_token, client_id: other.client_id });
    expect(r.status).toBe(200);
    expect((await deps.verifier.verify('acme', MCP_URL, tokens.access_token)).username).toBe('alice');
    expect((await request(app).post('/orgs/acme/revoke').type('form').send({ token: 'nonsense', client_id: other.client_id })).status).toBe(200);
  });
});

describe('identity provider outages', () => {
  it('fail a refresh without consuming the refresh token, so the client can retry later', async () => {
    const { app, idp, clock } = testApp();
    const { client, tokens } = await obtainTokens(app);
    clock.advance(290);
    const original = idp.refresh.bind(idp);
    idp.refresh = async () => {
      throw new UnavailableError('identity provider', 'connect ECONNREFUSED', 5);
    };
    const down = await refresh(app, client.client_id, tokens.refresh_token);
    expect(down.status).toBe(503);
    expect(down.body.error).toBe('temporarily_unavailable');
    expect(down.headers['retry-after']).toBe('5');
    expect(JSON.stringify(down.body)).not.toContain('mcp_');
    clock.advance(60); // well past the grace window
    idp.refresh = original;
    const later = await refresh(app, client.client_id, tokens.refresh_token);
    expect(later.status).toBe(200);
  });
});

describe('store outages during sign-in', () => {
  it('answer the callback and the consent form with 503 + Retry-After and a page to reload, and the same sign-in completes once the store is back', async () => {
    const { app, store } = testApp();
    const c = await registerClient(app);
    const a = await request(app).get('/orgs/acme/authorize').query(authorizeQuery(c.client_id, pkce().challenge));
    const state = new URL(a.headers.location!).searchParams.get('state')!;
    const cookie = (a.headers['set-cookie'] as unknown as string[]).map((x) => x.split(';')[0]).join('; ');
    const { get, getDel } = store;
    const down = async (): Promise<never> => {
      throw new UnavailableError('store', 'connect ECONNREFUSED', 1);
    };
    store.get = down;
    store.getDel = down;
    const during = await request(app).get('/orgs/acme/callback').query({ code: 'kc-code', state }).set('Cookie', cookie);
    expect(during.status).toBe(503);
    expect(during.headers['retry-after']).toBe('1');
    expect(during.text).toContain('Reload this page');
    expect(during.text).not.toContain('expired');
    expect(during.headers.location).toBeUndefined();
    store.get = get;
    store.getDel = getDel;
    const again = await request(app).get('/orgs/acme/callback').query({ code: 'kc-code', state }).set('Cookie', cookie);
    expect(again.status).toBe(303);
    const consent = new URL(again.headers.location!);
    expect(consent.pathname).toBe('/orgs/acme/consent');

    store.getDel = down;
    const { post: failed } = await approveConsent(app, again.headers.location!, cookie);
    expect(failed.status).toBe(503);
    expect(failed.text).toContain('Reload this page');
    store.getDel = getDel;
    const { post } = await approveConsent(app, again.headers.location!, cookie);
    expect(post.status).toBe(303);
    expect(new URL(post.headers.location!).searchParams.get('code')).toBeTruthy();
  });
});

describe('login transactions', () => {
  it('started at one issuer cannot be completed at another', async () => {
    const { app } = testApp();
    const c = await registerClient(app);
    const a = await request(app).get('/orgs/acme/authorize').query({ response_type: 'code', client_id: c.client_id, redirect_uri: REDIRECT, code_challenge: pkce().challenge, code_challenge_method: 'S256' });
    const state = new URL(a.headers.location!).searchParams.get('state')!;
    const cookie = (a.headers['set-cookie'] as unknown as string[]).map((x) => x.split(';')[0]).join('; ');
    const elsewhere = await request(app).get('/callback').query({ code: 'kc', state }).set('Cookie', cookie);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.headers.location).toBeUndefined();
  });
});

describe('group changes at the identity provider', () => {
  it('reach the grant when its Keycloak token is refreshed, without a new login', async () => {
    const { app, deps, idp, clock } = testApp();
    const { client, tokens } = await obtainTokens(app);
    expect((await deps.verifier.verify('acme', MCP_URL, tokens.access_token)).groups).toEqual(['k8s-admins']);
    // An admin removes alice from k8s-admins; her Keycloak token expires and the client refreshes.
    idp.user.groups = ['k8s-viewers'];
    clock.advance(idp.accessLifetime);
    const r = await request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.client_id });
    expect(r.status).toBe(200);
    expect(idp.refreshCalls).toBe(1);
    // Every token of the grant now carries the new groups, the older access token included.
    expect((await deps.verifier.verify('acme', MCP_URL, r.body.access_token as string)).groups).toEqual(['k8s-viewers']);
    expect((await deps.verifier.verify('acme', MCP_URL, tokens.access_token)).groups).toEqual(['k8s-viewers']);
  });
});
