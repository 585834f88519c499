import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { REDIRECT, authorizeQuery, obtainCode, obtainTokens, pkce, registerClient, testApp, testConfig } from './testing.js';

describe('discovery', () => {
  it('publishes RFC 8414 metadata at the path-inserted well-known URL and the OIDC alias', async () => {
    const { app } = testApp();
    for (const path of ['/.well-known/oauth-authorization-server/orgs/acme', '/.well-known/openid-configuration/orgs/acme', '/orgs/acme/.well-known/openid-configuration']) {
      const res = await request(app).get(path);
      expect(res.status, path).toBe(200);
      expect(res.body).toMatchObject({
        issuer: 'https://gw.test/orgs/acme',
        authorization_endpoint: 'https://gw.test/orgs/acme/authorize',
        token_endpoint: 'https://gw.test/orgs/acme/token',
        registration_endpoint: 'https://gw.test/orgs/acme/register',
        revocation_endpoint: 'https://gw.test/orgs/acme/revoke',
        code_challenge_methods_supported: ['S256'],
        client_id_metadata_document_supported: true,
        authorization_response_iss_parameter_supported: true,
        grant_types_supported: ['authorization_code', 'refresh_token'],
        scopes_supported: ['mcp:tools:read', 'mcp:tools:write'],
      });
    }
  });
  it('publishes RFC 9728 protected-resource metadata for each MCP URL, including the single-org root', async () => {
    const { app } = testApp();
    const org = await request(app).get('/.well-known/oauth-protected-resource/orgs/acme/mcp');
    expect(org.body).toMatchObject({ resource: 'https://gw.test/orgs/acme/mcp', authorization_servers: ['https://gw.test/orgs/acme'] });
    const root = await request(app).get('/.well-known/oauth-protected-resource/mcp');
    expect(root.body).toMatchObject({ resource: 'https://gw.test/mcp', authorization_servers: ['https://gw.test'] });
    expect((await request(app).get('/.well-known/oauth-authorization-server')).body.issuer).toBe('https://gw.test');
  });
  it('sets helmet security headers on every page', async () => {
    const { app } = testApp();
    const res = await request(app).get('/.well-known/oauth-authorization-server/orgs/acme');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['x-request-id']).toBeTruthy();
  });
});

describe('POST /register: malformed requests', () => {
  const cases: [string, unknown, number, string][] = [
    ['no redirect_uris', { client_name: 'x' }, 400, 'invalid_redirect_uri'],
    ['empty redirect_uris', { redirect_uris: [] }, 400, 'invalid_redirect_uri'],
    ['a javascript: URI', { redirect_uris: ['javascript:alert(1)'] }, 400, 'invalid_redirect_uri'],
    ['a data: URI', { redirect_uris: ['data:text/html,hi'] }, 400, 'invalid_redirect_uri'],
    ['a fragment', { redirect_uris: ['https://app.example/cb#x'] }, 400, 'invalid_redirect_uri'],
    ['a wildcard', { redirect_uris: ['https://*.example/cb'] }, 400, 'invalid_redirect_uri'],
    ['http on a public host', { redirect_uris: ['http://app.example/cb'] }, 400, 'invalid_redirect_uri'],
    ['userinfo', { redirect_uris: ['https://u:p@app.example/cb'] }, 400, 'invalid_redirect_uri'],
    ['a relative URI', { redirect_uris: ['/cb'] }, 400, 'invalid_redirect_uri'],
    ['redirect_uris not an array', { redirect_uris: 'https://app.example/cb' }, 400, 'invalid_redirect_uri'],
    ['an unsupported grant type', { redirect_uris: [REDIRECT], grant_types: ['client_credentials'] }, 400, 'invalid_client_metadata'],
    ['an implicit response type', { redirect_uris: [REDIRECT], response_types: ['token'] }, 400, 'invalid_client_metadata'],
    ['an unknown auth method', { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'private_key_jwt' }, 400, 'invalid_client_metadata'],
    ['a scope not offered', { redirect_uris: [REDIRECT], scope: 'admin' }, 400, 'invalid_client_metadata'],
    ['a JSON array body', [REDIRECT], 400, 'invalid_client_metadata'],
    ['too many redirect URIs', { redirect_uris: Array.from({ length: 11 }, (_, i) => `https://app.example/cb${i}`) }, 400, 'invalid_redirect_uri'],
  ];
  it.each(cases)('refuses %s', async (_name, body, status, error) => {
    const { app } = testApp();
    const res = await request(app).post('/orgs/acme/register').send(body as object);
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(error);
    expect(res.headers['cache-control']).toBe('no-store');
  });
  it('refuses malformed JSON and oversized bodies', async () => {
    const { app } = testApp();
    const bad = await request(app).post('/orgs/acme/register').set('Content-Type', 'application/json').send('{"redirect_uris":');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_request');
    const big = await request(app).post('/orgs/acme/register').send({ redirect_uris: [REDIRECT], client_name: 'x'.repeat(20_000) });
    expect(big.status).toBe(413);
  });
  it('accepts loopback http on any port, https, and reverse-domain native schemes', async () => {
    const { app } = testApp();
    const res = await request(app).post('/orgs/acme/register').send({ redirect_uris: ['http://127.0.0.1:5173/cb', 'http://localhost/cb', 'https://app.example/cb', 'com.example.app:/oauth'], token_endpoint_auth_method: 'none' });
    expect(res.status).toBe(201);
    expect(res.body.client_secret).toBeUndefined();
  });
  it.each([
    ['VS Code', ['http://127.0.0.1:33418/', 'https://vscode.dev/redirect']],
    ['Cursor', ['cursor://anysphere.cursor-mcp/oauth/callback']],
    ['claude.ai', ['https://claude.ai/api/mcp/auth_callback']],
    ['mcp-remote (Claude Desktop)', ['http://localhost:3334/oauth/callback']],
    ['the MCP Inspector', ['http://localhost:6274/oauth/callback', 'http://localhost:6274/oauth/callback/debug']],
  ])('accepts the redirect URIs %s registers', async (_client, uris) => {
    const { app } = testApp();
    const res = await request(app).post('/orgs/acme/register').send({ redirect_uris: uris, token_endpoint_auth_method: 'none' });
    expect(res.status).toBe(201);
    expect(res.body.redirect_uris).toEqual(uris);
  });
  it('issues a secret to confidential clients (client_secret_basic by default)', async () => {
    const { app } = testApp();
    const res = await request(app).post('/orgs/acme/register').send({ redirect_uris: [REDIRECT] });
    expect(res.status).toBe(201);
    expect(res.body.client_secret).toMatch(/^mcps_/);
    expect(res.body.token_endpoint_auth_method).toBe('client_secret_basic');
  });
  it('needs an initial access token under that policy', async () => {
    const { app } = testApp(testConfig({}, { registration: { policy: 'initial-access-token', initialAccessTokens: ['iat-0123456789abcdef'] } }));
    const none = await request(app).post('/orgs/acme/register').send({ redirect_uris: [REDIRECT] });
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('invalid_token');
    const ok = await request(app).post('/orgs/acme/register').set('Authorization', 'Bearer iat-0123456789abcdef').send({ redirect_uris: [REDIRECT] });
    expect(ok.status).toBe(201);
  });
  it('allows only listed redirect hosts (and loopback) under the allow-listed policy', async () => {
    const { app } = testApp(testConfig({}, { registration: { policy: 'allow-listed', allowedRedirectHosts: ['claude.ai'] } }));
    expect((await request(app).post('/orgs/acme/register').send({ redirect_uris: ['https://claude.ai/api/mcp/auth_callback'] })).status).toBe(201);
    expect((await request(app).post('/orgs/acme/register').send({ redirect_uris: [REDIRECT] })).status).toBe(201);
    const off = await request(app).post('/orgs/acme/register').send({ redirect_uris: ['https://evil.example/cb'] });
    expect(off.body.error).toBe('invalid_redirect_uri');
  });
  it('forgets a registration that was never used', async () => {
    const { app, clock } = testApp();
    const c = await registerClient(app);
    clock.advance(24 * 3600 + 1);
    const res = await request(app).get('/orgs/acme/authorize').query(authorizeQuery(c.client_id, pkce().challenge));
    expect(res.status).toBe(400);
    expect(res.text).toContain('unknown client_id');
  });
  it('rate-limits registrations per address', async () => {
    const { app } = testApp(testConfig({ rateLimits: { register: { points: 2, windowSeconds: 60 } } }));
    await registerClient(app);
    await registerClient(app);
    const res = await request(app).post('/orgs/acme/register').send({ redirect_uris: [REDIRECT] });
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBeTruthy();
  });
});

describe('GET /authorize: malformed requests', () => {
  it.each<[string, (id: string, ch: string) => Record<string, string>, number]>([
    ['no client_id', (_id, ch) => ({ ...authorizeQuery('', ch), client_id: '' }), 400],
    ['an unknown client_id', (_id, ch) => authorizeQuery('mcp_nope', ch), 400],
    ['a redirect_uri that was not registered', (id, ch) => authorizeQuery(id, ch, { redirect_uri: 'https://evil.example/cb' }), 400],
    ['a redirect_uri on another loopback path', (id, ch) => authorizeQuery(id, ch, { redirect_uri: 'http://127.0.0.1:33418/other' }), 400],
  ])('shows an error page and never redirects for %s', async (_name, q, status) => {
    const { app } = testApp();
    const c = await registerClient(app);
    const res = await request(app).get('/orgs/acme/authorize').query(q(c.client_id, pkce().challenge));
    expect(res.status).toBe(status);
    expect(res.headers.location).toBeUndefined();
    expect(res.type).toBe('text/html');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it.each<[string, Record<string, string>, string]>([
    ['response_type token', { response_type: 'token' }, 'unsupported_response_type'],
    ['no code_challenge', { code_challenge: '' }, 'invalid_request'],
    ['the plain PKCE method', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['no PKCE method', { code_challenge_method: '' }, 'invalid_request'],
    ['a short code_challenge', { code_challenge: 'abc' }, 'invalid_request'],
    ['an unknown scope', { scope: 'mcp:tools:read admin' }, 'invalid_scope'],
    ['a resource of another server', { resource: 'https://other.example/mcp' }, 'invalid_target'],
    ['the resource of another org', { resource: 'https://gw.test/orgs/other/mcp' }, 'invalid_target'],
  ])('redirects back with error, state and iss for %s', async (_name, extra, error) => {
    const { app } = testApp();
    const c = await registerClient(app);
    const q = Object.fromEntries(Object.entries(authorizeQuery(c.client_id, pkce().challenge, extra)).filter(([, v]) => v !== ''));
    const res = await request(app).get('/orgs/acme/authorize').query(q);
    expect(res.status).toBe(302);
    const back = new URL(res.headers.location!);
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(back.searchParams.get('error')).toBe(error);
    expect(back.searchParams.get('state')).toBe('st-123');
    expect(back.searchParams.get('iss')).toBe('https://gw.test/orgs/acme');
  });

  it('accepts a loopback redirect on another port (RFC 8252) and defaults an omitted resource to the MCP URL', async () => {
    const { app } = testApp();
    const c = await registerClient(app);
    const res = await request(app).get('/orgs/acme/authorize').query(authorizeQuery(c.client_id, pkce().challenge, { redirect_uri: 'http://127.0.0.1:9999/callback' }));
    expect(res.status).toBe(302);
    const kc = new URL(res.headers.location!);
    expect(kc.host).toBe('kc.test');
    expect(kc.searchParams.get('redirect_uri')).toBe('https://gw.test/orgs/acme/callback');
    expect(kc.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.headers['set-cookie']?.[0]).toMatch(/HttpOnly/i);
  });

  it('shows an error page for a callback without a matching login', async () => {
    const { app } = testApp();
    const res = await request(app).get('/orgs/acme/callback').query({ code: 'x', state: 'unknown' });
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
  });
});

describe('POST /token: malformed requests', () => {
  it.each<[string, Record<string, string>, number, string]>([
    ['no grant_type', {}, 400, 'invalid_request'],
    ['an unsupported grant_type', { grant_type: 'password' }, 400, 'unsupported_grant_type'],
    ['client_credentials', { grant_type: 'client_credentials' }, 400, 'unsupported_grant_type'],
    ['no client_id', { grant_type: 'authorization_code', code: 'x', code_verifier: 'v'.repeat(43) }, 401, 'invalid_client'],
    ['an unknown client', { grant_type: 'authorization_code', code: 'x', code_verifier: 'v'.repeat(43), client_id: 'mcp_nope' }, 401, 'invalid_client'],
    ['no code', { grant_type: 'authorization_code', code_verifier: 'v'.repeat(43), client_id: 'CLIENT' }, 400, 'invalid_request'],
    ['no code_verifier', { grant_type: 'authorization_code', code: 'x', client_id: 'CLIENT' }, 400, 'invalid_request'],
    ['a short code_verifier', { grant_type: 'authorization_code', code: 'x', code_verifier: 'short', client_id: 'CLIENT' }, 400, 'invalid_request'],
    ['an unknown code', { grant_type: 'authorization_code', code: 'nope', code_verifier: 'v'.repeat(43), client_id: 'CLIENT' }, 400, 'invalid_grant'],
    ['no refresh_token', { grant_type: 'refresh_token', client_id: 'CLIENT' }, 400, 'invalid_request'],
    ['an unknown refresh_token', { grant_type: 'refresh_token', refresh_token: 'mcp_rt.x.y', client_id: 'CLIENT' }, 400, 'invalid_grant'],
    ['a secret from a public client', { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'CLIENT', client_secret: 'guess' }, 401, 'invalid_client'],
    ['a foreign resource on refresh', { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'CLIENT', resource: 'https://evil.example/mcp' }, 400, 'invalid_target'],
  ])('refuses %s', async (_name, body, status, error) => {
    const { app } = testApp();
    const c = await registerClient(app);
    const form = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, v === 'CLIENT' ? c.client_id : v]));
    const res = await request(app).post('/orgs/acme/token').type('form').send(form);
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(error);
    expect(res.headers['cache-control']).toBe('no-store');
    if (status === 401) expect(res.headers['www-authenticate']).toMatch(/^Basic/);
  });

  it('refuses JSON bodies, GET, and repeated parameters', async () => {
    const { app } = testApp();
    expect((await request(app).post('/orgs/acme/token').send({ grant_type: 'refresh_token' })).body.error).toBe('invalid_request');
    const get = await request(app).get('/orgs/acme/token');
    expect(get.status).toBe(405);
    // Written by sendOAuthError like every other OAuth error: RFC body, no-store, Pragma.
    expect(get.body).toEqual({ error: 'invalid_request', error_description: 'use POST' });
    expect(get.headers).toMatchObject({ allow: 'POST', 'cache-control': 'no-store', pragma: 'no-cache' });
    const rep = await request(app).post('/orgs/acme/token').type('form').send('grant_type=refresh_token&grant_type=authorization_code');
    expect(rep.body.error).toBe('invalid_request');
  });

  it('authenticates confidential clients with Basic or body credentials and refuses a wrong secret', async () => {
    const { app } = testApp();
    const reg = await request(app).post('/orgs/acme/register').send({ redirect_uris: [REDIRECT] });
    const { client_id: id, client_secret: secret } = reg.body as { client_id: string; client_secret: string };
    const p = pkce();
    const { code } = await obtainCode(app, id, p.challenge);
    const wrong = await request(app).post('/orgs/acme/token').type('form').auth(id, 'wrong').send({ grant_type: 'authorization_code', code, code_verifier: p.verifier });
    expect(wrong.status).toBe(401);
    const ok = await request(app).post('/orgs/acme/token').type('form').auth(id, secret).send({ grant_type: 'authorization_code', code, code_verifier: p.verifier });
    // The code was consumed by nothing: a failed client authentication happens before the code is taken.
    expect(ok.status).toBe(200);
  });

  it('refuses a code presented by another client and revokes its grant', async () => {
    const { app } = testApp();
    const a = await registerClient(app);
    const b = await registerClient(app);
    const p = pkce();
    const { code } = await obtainCode(app, a.client_id, p.challenge);
    const res = await request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'authorization_code', code, code_verifier: p.verifier, client_id: b.client_id });
    expect(res.body.error).toBe('invalid_grant');
  });

  it('refuses a redirect_uri that differs from the authorization request', async () => {
    const { app } = testApp();
    const c = await registerClient(app);
    const p = pkce();
    const { code } = await obtainCode(app, c.client_id, p.challenge);
    const res = await request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'authorization_code', code, code_verifier: p.verifier, client_id: c.client_id, redirect_uri: 'http://127.0.0.1:1/x' });
    expect(res.body.error).toBe('invalid_grant');
  });

  it('refuses to widen scopes on refresh but allows narrowing', async () => {
    const { app } = testApp();
    const c = await registerClient(app);
    const p = pkce();
    const { code } = await obtainCode(app, c.client_id, p.challenge, '/orgs/acme', { scope: 'mcp:tools:read' });
    const t = await request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'authorization_code', code, code_verifier: p.verifier, client_id: c.client_id });
    expect(t.body.scope).toBe('mcp:tools:read');
    const wider = await request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'refresh_token', refresh_token: t.body.refresh_token, client_id: c.client_id, scope: 'mcp:tools:read mcp:tools:write' });
    expect(wider.status).toBe(400);
    expect(wider.body.error).toBe('invalid_scope');
  });
  it('narrows the access token to the scopes asked on refresh', async () => {
    const { app, deps } = testApp();
    const { client, tokens } = await obtainTokens(app);
    const res = await request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.client_id, scope: 'mcp:tools:read' });
    expect(res.body.scope).toBe('mcp:tools:read');
    expect((await deps.verifier.verify('acme', 'https://gw.test/orgs/acme/mcp', res.body.access_token)).scopes).toEqual(['mcp:tools:read']);
  });
});

describe('POST /revoke: malformed requests', () => {
  it.each<[string, Record<string, string>, number, string]>([
    ['no token', { client_id: 'CLIENT' }, 400, 'invalid_request'],
    ['no client', { token: 'x' }, 401, 'invalid_client'],
    ['an unknown token type hint', { token: 'x', client_id: 'CLIENT', token_type_hint: 'id_token' }, 400, 'unsupported_token_type'],
  ])('refuses %s', async (_name, body, status, error) => {
    const { app } = testApp();
    const c = await registerClient(app);
    const form = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, v === 'CLIENT' ? c.client_id : v]));
    const res = await request(app).post('/orgs/acme/revoke').type('form').send(form);
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(error);
  });
});
