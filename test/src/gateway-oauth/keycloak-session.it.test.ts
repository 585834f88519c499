// When Keycloak ends the user's session, the gateway grant behind it ends too: the next refresh fails
// with invalid_grant and the MCP URL answers 401, so the client signs the user in again.
// A private gateway refreshes the Keycloak token on every use (huge refresh skew) to reach that path now.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { loadStackEnv, readStackEnvRaw, type StackEnv } from '../stack/env.js';
import { launchBrowser } from '../support/browser-login.js';
import { startGatewayProcess, type GatewayProcess } from '../support/oauth-gateway-process.js';
import { browserAuthorization, exchangeCode, mcpInitialize, refreshTokens, type TokenSet } from '../support/oauth-flow.js';

let env: StackEnv;
let browser: Browser;
let gateway: GatewayProcess;

beforeAll(async () => {
  env = loadStackEnv();
  gateway = await startGatewayProcess((cfg) => {
    const oauth = (cfg.orgs[0] as { oauth: { tokens: Record<string, number> } }).oauth;
    oauth.tokens.upstreamRefreshSkewSeconds = 1_000_000;
  });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
});

async function adminToken(): Promise<string> {
  const raw = { ...readStackEnvRaw(), ...process.env };
  const res = await fetch(`${env.KEYCLOAK_URL}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: raw.KEYCLOAK_ADMIN_USER!, password: raw.KEYCLOAK_ADMIN_PASSWORD! }),
  });
  if (!res.ok) throw new Error(`admin token: ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Ends the user's Keycloak sessions that the gateway's client started since `since` (only this test's). */
async function endGatewaySessions(username: string, since: number): Promise<number> {
  const token = await adminToken();
  const admin = `${env.KEYCLOAK_URL}/admin/realms/${env.KEYCLOAK_REALM}`;
  const h = { authorization: `Bearer ${token}` };
  const users = (await (await fetch(`${admin}/users?exact=true&username=${username}`, { headers: h })).json()) as { id: string }[];
  const sessions = (await (await fetch(`${admin}/users/${users[0]!.id}/sessions`, { headers: h })).json()) as { id: string; start: number; clients: Record<string, string> }[];
  const ours = sessions.filter((s) => Object.values(s.clients).includes(env.GATEWAY_CLIENT_ID) && s.start >= since - 1000);
  for (const s of ours) {
    const del = await fetch(`${admin}/sessions/${s.id}`, { method: 'DELETE', headers: h });
    if (!del.ok) throw new Error(`delete session: ${del.status}`);
  }
  return ours.length;
}

describe('the Keycloak session behind a gateway grant', () => {
  it('ending it at Keycloak revokes the grant: refresh fails and the MCP URL answers 401', async () => {
    const since = Date.now();
    const a = await browserAuthorization(browser, gateway.issuer, { username: 'bob', password: env.BOB_PASSWORD, consent: 'approve' });
    await a.redirect.close();
    const t = await exchangeCode(gateway.issuer, { clientId: a.clientId, code: a.response.code!, verifier: a.verifier, redirectUri: a.redirect.url });
    expect(t.status).toBe(200);
    const tokens = t.body as unknown as TokenSet;

    // While the session lives, refreshing (which refreshes at Keycloak too) works.
    const r1 = await refreshTokens(gateway.issuer, a.clientId, tokens.refresh_token);
    expect(r1.status).toBe(200);
    const live = r1.body as unknown as TokenSet;

    expect(await endGatewaySessions('bob', since)).toBeGreaterThan(0);

    const mcp = await mcpInitialize(`${gateway.issuer}/mcp`, live.access_token);
    await mcp.body?.cancel();
    expect(mcp.status).toBe(401);
    expect(mcp.headers.get('www-authenticate')).toContain('invalid_token');
    const r2 = await refreshTokens(gateway.issuer, a.clientId, live.refresh_token);
    expect(r2.status).toBe(400);
    expect(r2.body.error).toBe('invalid_grant');
  });
});
