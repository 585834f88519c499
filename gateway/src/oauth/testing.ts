// Test support for the OAuth unit tests: a config, a fake identity provider, and a helper that walks a
// browser-less login (authorize -> fake IdP -> callback -> consent -> code). Not used in production code.
import request from 'supertest';
import type { Express } from 'express';
import { pino } from 'pino';
import { configSchema, type GatewayConfig } from '../config/schema.js';
import { createApp } from '../app.js';
import { MemoryKvStore } from '../store/memory.js';
import { FakeIdp as SharedFakeIdp, pkce } from '../../../test/src/support/fake-idp.js';
import { UpstreamRefusedError } from './keycloak.js';

export { pkce };

/** The one fake Keycloak of every OAuth unit suite (test/src/support/fake-idp.ts), refusing with this gateway's error class. */
export class FakeIdp extends SharedFakeIdp {
  constructor(now: () => number) {
    super({ now, refused: (m) => new UpstreamRefusedError(m) });
  }
}

export const PUBLIC = 'https://gw.test';
export const ISSUER = `${PUBLIC}/orgs/acme`;
export const MCP_URL = `${ISSUER}/mcp`;
export const REDIRECT = 'http://127.0.0.1:33418/callback';

const KEYCLOAK = { issuer: 'https://kc.test/realms/mcp', clientSecret: 'secret' };
// The MCP half needs a cluster; impersonation needs no exchange settings. Nothing listens there.
const CLUSTERS = [{ name: 'c1', workers: ['http://127.0.0.1:9/'], identity: 'impersonation' }];

export function testConfig(overrides: Record<string, unknown> = {}, orgOauth: Record<string, unknown> = {}): GatewayConfig {
  return configSchema.parse({
    publicUrl: PUBLIC,
    singleOrg: 'acme',
    orgs: [
      { name: 'acme', clusters: CLUSTERS, oauth: { keycloak: KEYCLOAK, ...orgOauth } },
      { name: 'other', clusters: CLUSTERS, oauth: { keycloak: KEYCLOAK } },
    ],
    ...overrides,
  });
}

export function frozenClock(start = Date.parse('2026-11-23T12:00:00Z')) {
  let t = start;
  return { now: () => t, advance: (seconds: number) => void (t += seconds * 1000) };
}

export function testApp(config = testConfig()) {
  const clock = frozenClock();
  const idp = new FakeIdp(clock.now);
  const store = new MemoryKvStore(clock.now);
  const { app, deps } = createApp(config, { store, logger: pino({ level: 'silent' }), now: clock.now, idpFor: () => idp });
  return { app, deps, clock, idp, store };
}

export async function registerClient(app: Express, body: Record<string, unknown> = {}, base = '/orgs/acme') {
  const res = await request(app).post(`${base}/register`).send({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', client_name: 'Test Client', ...body });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { client_id: string; client_secret?: string };
}

export function authorizeQuery(clientId: string, challenge: string, extra: Record<string, string> = {}) {
  return { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 'st-123', ...extra };
}

/** Walks authorize -> IdP -> callback -> consent page; returns what a browser would hold. */
export async function loginToConsent(app: Express, clientId: string, challenge: string, base = '/orgs/acme', extra: Record<string, string> = {}) {
  const a = await request(app).get(`${base}/authorize`).query(authorizeQuery(clientId, challenge, extra));
  if (a.status !== 302) throw new Error(`authorize: ${a.status} ${a.text}`);
  const kc = new URL(a.headers.location!);
  const cookie = (a.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
  const cb = await request(app).get(`${base}/callback`).query({ code: 'kc-code', state: kc.searchParams.get('state')! }).set('Cookie', cookie);
  return { authorize: a, callback: cb, cookie, state: kc.searchParams.get('state')! };
}

export async function approveConsent(app: Express, consentLocation: string, cookie: string, decision = 'approve') {
  const u = new URL(consentLocation);
  const page = await request(app).get(u.pathname + u.search).set('Cookie', cookie);
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(page.text)?.[1] ?? '';
  const post = await request(app)
    .post(u.pathname)
    .type('form')
    .set('Cookie', cookie)
    .send({ id: field('id'), tx: field('tx'), csrf: field('csrf'), decision });
  return { page, post };
}

/** Full login to an authorization code. */
export async function obtainCode(app: Express, clientId: string, challenge: string, base = '/orgs/acme', extra: Record<string, string> = {}) {
  const l = await loginToConsent(app, clientId, challenge, base, extra);
  let location = l.callback.headers.location!;
  if (l.callback.status === 303 && location.includes('/consent?')) {
    const { post } = await approveConsent(app, location, l.cookie);
    location = post.headers.location!;
  }
  const u = new URL(location);
  return { code: u.searchParams.get('code')!, redirect: u };
}

export async function obtainTokens(app: Express, base = '/orgs/acme') {
  const client = await registerClient(app, {}, base);
  const p = pkce();
  const { code } = await obtainCode(app, client.client_id, p.challenge, base);
  const res = await request(app).post(`${base}/token`).type('form').send({ grant_type: 'authorization_code', code, code_verifier: p.verifier, client_id: client.client_id, redirect_uri: REDIRECT });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`);
  return { client, tokens: res.body as { access_token: string; refresh_token: string; expires_in: number; scope: string } };
}
