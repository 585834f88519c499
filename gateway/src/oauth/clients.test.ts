import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { MemoryKvStore } from '../store/memory.js';
import { pino } from 'pino';
import { FakeIdp, REDIRECT, frozenClock, loginToConsent, obtainCode, pkce, testConfig } from './testing.js';
import type { ClientMetadataDocument } from './client-metadata.js';

const DOC_URL = 'https://app.example/oauth/client.json';

function appWith(orgOauth: Record<string, unknown>, docs: Record<string, ClientMetadataDocument> = {}, overrides: Record<string, unknown> = {}, fail?: Error) {
  const clock = frozenClock();
  const idp = new FakeIdp(clock.now);
  let fetches = 0;
  const { app, deps } = createApp(testConfig(overrides, orgOauth), {
    store: new MemoryKvStore(clock.now),
    logger: pino({ level: 'silent' }),
    now: clock.now,
    idpFor: () => idp,
    fetchClientMetadata: async (_site, url) => {
      fetches++;
      if (fail) throw fail;
      const d = docs[url];
      if (!d) throw new Error('not found');
      return d;
    },
  });
  return { app, deps, clock, fetches: () => fetches };
}

describe('pre-registered clients', () => {
  const clients = [
    { client_id: 'ops-portal', client_secret: 'ops-portal-secret-0123', client_name: 'Ops portal', redirect_uris: [REDIRECT], skipConsent: true },
    { client_id: 'cli', client_name: 'CLI', redirect_uris: [REDIRECT] },
  ];
  it('a trusted confidential client skips consent and must authenticate at the token endpoint', async () => {
    const { app } = appWith({ clients });
    const p = pkce();
    const l = await loginToConsent(app, 'ops-portal', p.challenge);
    expect(l.callback.status).toBe(302);
    const code = new URL(l.callback.headers.location!).searchParams.get('code')!;
    const noSecret = await request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'authorization_code', code, code_verifier: p.verifier, client_id: 'ops-portal' });
    expect(noSecret.status).toBe(401);
    expect(noSecret.body.error).toBe('invalid_client');
  });
  it('a public pre-registered client gets the consent page and tokens', async () => {
    const { app } = appWith({ clients });
    const p = pkce();
    const { code } = await obtainCode(app, 'cli', p.challenge);
    const t = await request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'authorization_code', code, code_verifier: p.verifier, client_id: 'cli' });
    expect(t.status).toBe(200);
  });
});

describe('client ID metadata documents', () => {
  const doc: ClientMetadataDocument = { client_id: DOC_URL, client_name: 'Doc Client', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' };
  it('are used as the client, fetched once and cached', async () => {
    const { app, fetches } = appWith({}, { [DOC_URL]: doc });
    const p = pkce();
    const { code } = await obtainCode(app, DOC_URL, p.challenge);
    const t = await request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'authorization_code', code, code_verifier: p.verifier, client_id: DOC_URL });
    expect(t.status).toBe(200);
    expect(fetches()).toBe(1);
  });
  it('that cannot be fetched or name another redirect URI show an error page at authorize', async () => {
    const { app } = appWith({}, { [DOC_URL]: { ...doc, redirect_uris: ['https://elsewhere.example/cb'] } });
    const other = await request(app).get('/orgs/acme/authorize').query({ client_id: DOC_URL, redirect_uri: REDIRECT, response_type: 'code', code_challenge: pkce().challenge, code_challenge_method: 'S256' });
    expect(other.status).toBe(400);
    expect(other.headers.location).toBeUndefined();
    const missing = await request(app).get('/orgs/acme/authorize').query({ client_id: 'https://nowhere.example/c.json', redirect_uri: REDIRECT, response_type: 'code' });
    expect(missing.status).toBe(400);
  });
  it('are refused when the org turns them off', async () => {
    const { app } = appWith({ clientIdMetadataDocuments: { enabled: false } }, { [DOC_URL]: doc });
    const res = await request(app).get('/orgs/acme/authorize').query({ client_id: DOC_URL, redirect_uri: REDIRECT, response_type: 'code' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('unknown client_id');
    expect((await request(app).get('/.well-known/oauth-authorization-server/orgs/acme')).body.client_id_metadata_document_supported).toBe(false);
  });
});

describe('limits and browser access', () => {
  it('rate-limits the token endpoint per address: a new client_id does not buy a new bucket or another document fetch', async () => {
    const { app, fetches } = appWith({}, {}, { rateLimits: { token: { points: 2, windowSeconds: 60 } } });
    const send = (clientId: string) => request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'refresh_token', refresh_token: 'x', client_id: clientId });
    await send('https://a.example/c1.json');
    await send('https://a.example/c2.json');
    const limited = await send('https://a.example/c3.json');
    expect(limited.status).toBe(429);
    expect(fetches()).toBe(2);
    expect((await request(app).post('/orgs/acme/revoke').type('form').send({ token: 'x', client_id: 'https://a.example/c4.json' })).status).toBe(429);
  });
  it('rate-limits the token endpoint with 429 and Retry-After', async () => {
    const { app } = appWith({}, {}, { rateLimits: { token: { points: 2, windowSeconds: 60 } } });
    const send = () => request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'refresh_token', refresh_token: 'x', client_id: 'c' });
    await send();
    await send();
    const res = await send();
    expect(res.status).toBe(429);
    expect(res.body.error).toBe('too_many_requests');
    expect(res.headers['retry-after']).toBeTruthy();
  });
  it('rate-limits authorize with an error page', async () => {
    const { app } = appWith({}, {}, { rateLimits: { authorize: { points: 1, windowSeconds: 60 } } });
    await request(app).get('/orgs/acme/authorize');
    const res = await request(app).get('/orgs/acme/authorize');
    expect(res.status).toBe(429);
    expect(res.type).toBe('text/html');
  });
  it('answers CORS preflights for browser-based clients on register, token and metadata', async () => {
    const { app } = appWith({});
    for (const path of ['/orgs/acme/register', '/orgs/acme/token', '/.well-known/oauth-authorization-server/orgs/acme']) {
      const res = await request(app).options(path).set('Origin', 'http://localhost:6274').set('Access-Control-Request-Method', 'POST');
      expect(res.status, path).toBe(204);
      expect(res.headers['access-control-allow-origin'], path).toBe('*');
    }
  });
});

describe('client ID metadata documents under the registration policy', () => {
  const doc: ClientMetadataDocument = { client_id: DOC_URL, client_name: 'Doc Client', redirect_uris: ['https://evil.example/cb'], token_endpoint_auth_method: 'none' };
  const authorize = (app: Parameters<typeof request>[0], redirect = 'https://evil.example/cb') =>
    request(app).get('/orgs/acme/authorize').query({ client_id: DOC_URL, redirect_uri: redirect, response_type: 'code', code_challenge: pkce().challenge, code_challenge_method: 'S256', state: 's' });

  it('allow-listed: a document naming a redirect host off the list is refused, and no code goes there', async () => {
    const { app } = appWith({ registration: { policy: 'allow-listed', allowedRedirectHosts: ['claude.ai'] } }, { [DOC_URL]: doc });
    const res = await authorize(app);
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain('not on this server');
    const token = await request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'authorization_code', code: 'x', code_verifier: 'v'.repeat(43), client_id: DOC_URL });
    expect(token.status).toBe(401);
    expect(token.body.error).toBe('invalid_client');
  });

  it('allow-listed: a document whose redirect hosts are allowed (or loopback) works', async () => {
    const { app } = appWith({ registration: { policy: 'allow-listed', allowedRedirectHosts: ['claude.ai'] } }, { [DOC_URL]: { ...doc, redirect_uris: [REDIRECT, 'https://claude.ai/cb'] } });
    const p = pkce();
    const { code } = await obtainCode(app, DOC_URL, p.challenge);
    expect((await request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'authorization_code', code, code_verifier: p.verifier, client_id: DOC_URL })).status).toBe(200);
  });

  it('allow-listed: a document accepted by an open org is not served from its cache to a stricter org', async () => {
    const { app } = appWith({ registration: { policy: 'allow-listed', allowedRedirectHosts: [] } }, { [DOC_URL]: doc });
    const open = await request(app).get('/orgs/other/authorize').query({ client_id: DOC_URL, redirect_uri: 'https://evil.example/cb', response_type: 'code', code_challenge: pkce().challenge, code_challenge_method: 'S256' });
    expect(open.status).toBe(302);
    expect((await authorize(app)).status).toBe(400);
  });

  it('initial-access-token: documents are off unless the org turns them on explicitly', async () => {
    const iat = { policy: 'initial-access-token', initialAccessTokens: ['iat-0123456789abcdef'] };
    const off = appWith({ registration: iat }, { [DOC_URL]: { ...doc, redirect_uris: [REDIRECT] } });
    const res = await authorize(off.app, REDIRECT);
    expect(res.status).toBe(400);
    expect(res.text).toContain('unknown client_id');
    expect(off.fetches()).toBe(0);
    expect((await request(off.app).get('/.well-known/oauth-authorization-server/orgs/acme')).body.client_id_metadata_document_supported).toBe(false);
    const on = appWith({ registration: iat, clientIdMetadataDocuments: { enabled: true } }, { [DOC_URL]: { ...doc, redirect_uris: [REDIRECT] } });
    expect((await authorize(on.app, REDIRECT)).status).toBe(302);
  });

  it('never echo why a document could not be fetched (no private-network port oracle)', async () => {
    const { app } = appWith({}, {}, {}, new Error('connect ECONNREFUSED 10.0.0.5:6379'));
    const page = await authorize(app);
    const token = await request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'authorization_code', code: 'x', code_verifier: 'v'.repeat(43), client_id: DOC_URL });
    expect(page.status).toBe(400);
    expect(token.status).toBe(401);
    expect(token.body).toEqual({ error: 'invalid_client', error_description: 'the client_id metadata document could not be used' });
    for (const text of [page.text, JSON.stringify(token.body)]) {
      expect(text).not.toMatch(/ECONNREFUSED|10\.0\.0\.5|6379/);
      expect(text).toContain('could not be used');
    }
  });
});

describe('the consent page names the client only as far as it is known', () => {
  it('marks a metadata-document client name as unverified and shows the host that published it', async () => {
    const { app } = appWith({}, { [DOC_URL]: { client_id: DOC_URL, client_name: 'Official Kubernetes Tool', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' } });
    const l = await loginToConsent(app, DOC_URL, pkce().challenge);
    const page = await request(app).get(new URL(l.callback.headers.location!).pathname + new URL(l.callback.headers.location!).search).set('Cookie', l.cookie);
    expect(page.text).toMatch(/Official Kubernetes Tool.{0,20}<em>\(unverified name\)<\/em> from <strong>app\.example<\/strong>/);
  });
  it('marks a self-registered client name as unverified, and shows a configured client name as is', async () => {
    const { app } = appWith({ clients: [{ client_id: 'cli', client_name: 'Company CLI', redirect_uris: [REDIRECT] }] });
    const reg = await request(app).post('/orgs/acme/register').send({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', client_name: 'Company CLI' });
    for (const [id, unverified] of [[reg.body.client_id as string, true], ['cli', false]] as const) {
      const l = await loginToConsent(app, id, pkce().challenge);
      const u = new URL(l.callback.headers.location!);
      const page = await request(app).get(u.pathname + u.search).set('Cookie', l.cookie);
      expect(page.text, id).toContain('Company CLI');
      expect(page.text.includes('unverified name'), id).toBe(unverified);
    }
  });
});
