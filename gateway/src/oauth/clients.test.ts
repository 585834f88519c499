import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { MemoryKvStore } from '../store/memory.js';
import { pino } from 'pino';
import { FakeIdp, REDIRECT, frozenClock, loginToConsent, obtainCode, pkce, testConfig } from './testing.js';
import type { ClientMetadataDocument } from './client-metadata.js';

const DOC_URL = 'https://app.example/oauth/client.json';

function appWith(orgOauth: Record<string, unknown>, docs: Record<string, ClientMetadataDocument> = {}, overrides: Record<string, unknown> = {}) {
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
