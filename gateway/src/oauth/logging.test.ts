import { Writable } from 'node:stream';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createLogger, httpLogSerializers, redactUrl } from '@kmg/shared/logger';
import { createApp } from '../app.js';
import { MemoryKvStore } from '../store/memory.js';
import { FakeIdp, REDIRECT, approveConsent, frozenClock, loginToConsent, pkce, registerClient, testConfig } from './testing.js';

function capturingApp() {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) });
  const clock = frozenClock();
  const { app } = createApp(testConfig(), { store: new MemoryKvStore(clock.now), logger: createLogger('gateway', { level: 'info' }, sink), now: clock.now, idpFor: () => new FakeIdp(clock.now) });
  return { app, log: () => lines.join('') };
}

describe('request logs', () => {
  it('carry no authorization code, state, consent id, login cookie or token from a whole sign-in', async () => {
    const { app, log } = capturingApp();
    const client = await registerClient(app);
    const p = pkce();
    const l = await loginToConsent(app, client.client_id, p.challenge);
    const consent = new URL(l.callback.headers.location!);
    const { post } = await approveConsent(app, l.callback.headers.location!, l.cookie);
    const code = new URL(post.headers.location!).searchParams.get('code')!;
    const t = await request(app).post('/orgs/acme/token').type('form').set('Cookie', l.cookie).send({ grant_type: 'authorization_code', code, code_verifier: p.verifier, client_id: client.client_id, redirect_uri: REDIRECT });
    expect(t.status).toBe(200);
    await request(app).get('/orgs/acme/mcp').set('Authorization', `Bearer ${t.body.access_token as string}`).set('Mcp-Session-Id', 'session-handle-0123456789');

    const text = log();
    const secrets = {
      code,
      clientState: 'st-123',
      loginState: l.state,
      consentId: consent.searchParams.get('id')!,
      loginCookie: l.cookie.split('=')[1]!,
      accessToken: t.body.access_token as string,
      refreshToken: t.body.refresh_token as string,
      sessionId: 'session-handle-0123456789',
    };
    for (const [name, value] of Object.entries(secrets)) expect(text, name).not.toContain(value);
    // Still useful: the redirects are logged with their path and the redacted parameters.
    expect(text).toContain('"location":"http://127.0.0.1:33418/callback?code=%5Bredacted%5D&state=%5Bredacted%5D');
    expect(text).toContain('/orgs/acme/consent?id=%5Bredacted%5D&tx=%5Bredacted%5D');
  });

  it('leave out Set-Cookie and Mcp-Session-Id response headers and redact Location', () => {
    const out = httpLogSerializers.res({ statusCode: 302, headers: { 'set-cookie': ['kmg_login=secret'], 'mcp-session-id': 'sid-secret', location: 'https://app.example/cb?code=c-secret&state=s-secret&iss=x', 'content-type': 'text/html' } });
    expect(JSON.stringify(out)).not.toMatch(/secret/);
    expect(out).toEqual({ statusCode: 302, headers: { 'content-type': 'text/html', location: 'https://app.example/cb?code=%5Bredacted%5D&state=%5Bredacted%5D&iss=x' } });
    expect(redactUrl('/orgs/acme/callback?state=abc&code=kc-secret&iss=https%3A%2F%2Fkc')).toBe('/orgs/acme/callback?state=%5Bredacted%5D&code=%5Bredacted%5D&iss=https%3A%2F%2Fkc');
  });

  it('redact credentials and session handles in request headers wherever a line carries them', () => {
    const lines: string[] = [];
    const logger = createLogger('t', {}, new Writable({ write: (c: Buffer, _e, d) => (lines.push(c.toString()), d()) }));
    logger.info({ req: { headers: { authorization: 'Bearer at-secret', cookie: 'kmg=c-secret', 'mcp-session-id': 'sid-secret' } }, res: { headers: { 'set-cookie': 'x=sc-secret', 'mcp-session-id': 'sid2-secret' } } }, 'line');
    expect(lines.join('')).not.toMatch(/secret/);
  });
});
