// What an attacker with Redis or log access finds after real sign-ins (a gateway process of this build, the stack's
// Keycloak and Redis): every record sealed, no user names, no tokens; request logs without codes, state or tokens;
// and an authorization code replayed concurrently is caught, revoking what it issued.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { RedisKvStore } from '@kmg/gateway/store/redis';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { launchBrowser } from '../support/browser-login.js';
import { startGatewayProcess, type GatewayProcess } from '../support/oauth-gateway-process.js';
import { browserAuthorization, exchangeCode, mcpInitialize, refreshTokens, type TokenSet } from '../support/oauth-flow.js';

let env: StackEnv;
let browser: Browser;
let gw: GatewayProcess;
let redis: RedisKvStore;
const secrets: Record<string, string> = {};

beforeAll(async () => {
  env = loadStackEnv();
  browser = await launchBrowser();
  gw = await startGatewayProcess();
  redis = new RedisKvStore({ url: env.REDIS_URL, keyPrefix: '' });
});
afterAll(async () => {
  await browser?.close();
  await gw?.stop();
  await redis?.close();
});

const alice = () => ({ username: 'alice', password: env.ALICE_PASSWORD, consent: 'approve' as const });

async function accepted(token: string): Promise<boolean> {
  const res = await mcpInitialize(`${gw.issuer}/mcp`, token);
  await res.body?.cancel();
  return res.status !== 401;
}

describe('an authorization code replayed concurrently', () => {
  it('is redeemed at most once, and the replay revokes whatever the code issued', async () => {
    const a = await browserAuthorization(browser, gw.issuer, alice());
    await a.redirect.close();
    secrets.replayedCode = a.response.code!;
    const req = { clientId: a.clientId, code: a.response.code!, verifier: a.verifier, redirectUri: a.redirect.url };
    const answers = await Promise.all(Array.from({ length: 6 }, () => exchangeCode(gw.issuer, req)));
    const ok = answers.filter((r) => r.status === 200);
    expect(ok.length).toBeLessThanOrEqual(1);
    expect(answers.filter((r) => r.status === 400 && r.body.error === 'invalid_grant').length).toBeGreaterThanOrEqual(5);
    expect(answers.some((r) => String(r.body.error_description).includes('already used'))).toBe(true);
    for (const r of ok) {
      const t = r.body as unknown as TokenSet;
      expect(await accepted(t.access_token)).toBe(false);
      expect((await refreshTokens(gw.issuer, a.clientId, t.refresh_token)).status).toBe(400);
    }
  });
});

describe('after a sign-in, a refresh and a few calls', () => {
  beforeAll(async () => {
    const a = await browserAuthorization(browser, gw.issuer, alice());
    await a.redirect.close();
    const t = await exchangeCode(gw.issuer, { clientId: a.clientId, code: a.response.code!, verifier: a.verifier, redirectUri: a.redirect.url });
    expect(t.status).toBe(200);
    const first = t.body as unknown as TokenSet;
    const r = await refreshTokens(gw.issuer, a.clientId, first.refresh_token);
    expect(r.status).toBe(200);
    const next = r.body as unknown as TokenSet;
    expect(await accepted(next.access_token)).toBe(true);
    Object.assign(secrets, { code: a.response.code!, state: a.response.state!, access: first.access_token, refresh: first.refresh_token, access2: next.access_token, refresh2: next.refresh_token });
  });

  it('Redis holds only sealed records: no user name, group, token or Keycloak token in the clear', async () => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [c, batch] = await redis.client.scan(cursor, 'MATCH', `${gw.keyPrefix}*`, 'COUNT', 500);
      cursor = c;
      keys.push(...batch);
    } while (cursor !== '0');
    // Everything but rate-limit counters and single-flight locks (which hold no secrets) must be sealed.
    const records = keys.filter((k) => /^(grant|at|code|client|cimd|consent|tx|consent-pending|xchg):/.test(k.slice(gw.keyPrefix.length)) && !k.endsWith(':kc-lock'));
    expect(records.length).toBeGreaterThan(5);
    for (const key of records) {
      const value = (await redis.client.get(key)) ?? '';
      expect(value, key).toMatch(/^(kmg-used:)?v1\./);
      for (const s of ['alice', 'k8s-admins', 'eyJ', ...Object.values(secrets)]) expect(value, key).not.toContain(s);
    }
  });

  it('the request log has no code, state or token, and still shows the requests', () => {
    const log = gw.log();
    expect(log).toContain('/orgs/stack/token');
    for (const [name, value] of Object.entries(secrets)) expect(log, name).not.toContain(value);
    expect(log).not.toMatch(/"set-cookie"|kmg_login_[A-Za-z0-9_-]+=/);
  });
});
