// Impersonation end to end on the stack: a Keycloak login at a gateway of this build, an impersonation worker with
// its own service account, the real apiserver. The user must be the same Kubernetes name as in bearer mode
// (oidc:alice in oidc:k8s-admins, which the seed binds), so one set of RoleBindings serves both modes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { loadStackEnv, readStackEnvRaw, type StackEnv } from '../stack/env.js';
import { launchBrowser } from '../support/browser-login.js';
import { startGatewayProcess, type GatewayProcess } from '../support/oauth-gateway-process.js';
import { browserAuthorization, exchangeCode, refreshTokens, type TokenSet } from '../support/oauth-flow.js';
import { NS } from '../worker/fixtures.js';
import { adminRest, ensureNamespace, impersonatorTokenFile, startWorkerProcess, type WorkerProcess } from '../worker/helpers.js';

let env: StackEnv;
let browser: Browser;
let worker: WorkerProcess;
let gw: GatewayProcess;
const AUDIENCE = 'kmg-worker-impersonation-gw';

beforeAll(async () => {
  env = loadStackEnv();
  const admin = adminRest(env);
  await ensureNamespace(admin, NS);
  const tokenFile = await impersonatorTokenFile(admin, NS, 'kmg-gw-impersonator');
  const dir = mkdtempSync(path.join(tmpdir(), 'kmg-gw-imp-'));
  const keyFile = path.join(dir, 'identity.pem');
  const keys = await generateKeyPair('ES256', { extractable: true });
  writeFileSync(keyFile, await exportPKCS8(keys.privateKey), { mode: 0o600 });
  const assertionIssuer = 'https://gateway.kmg.test/impersonation-it';
  worker = await startWorkerProcess(env, {
    WORKER_IDENTITY: 'impersonation',
    WORKER_SA_TOKEN_FILE: tokenFile,
    WORKER_ASSERTION_ISSUER: assertionIssuer,
    WORKER_ASSERTION_AUDIENCE: AUDIENCE,
    WORKER_ASSERTION_PUBLIC_KEY: await exportSPKI(keys.publicKey),
  });
  gw = await startGatewayProcess((cfg) => {
    cfg.identityAssertion = { signingKeyFile: keyFile, issuer: assertionIssuer };
    (cfg.orgs[0] as { clusters: unknown[] }).clusters = [{ name: 'default', workers: [worker.url], identity: 'impersonation', audience: AUDIENCE }];
    // Every gateway refresh also refreshes the Keycloak token, so a group change shows without waiting minutes.
    const oauth = (cfg.orgs[0] as { oauth: { tokens?: Record<string, unknown> } }).oauth;
    oauth.tokens = { ...(oauth.tokens ?? {}), upstreamRefreshSkewSeconds: 100_000 };
  });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await gw?.stop();
  await worker?.stop();
});

/** One JSON-RPC request to the gateway's MCP URL; the answer whether it came as JSON or as one SSE event. */
async function rpc(token: string, body: Record<string, unknown>, session?: string): Promise<{ status: number; session?: string; message?: Record<string, unknown> }> {
  const res = await fetch(`${gw.issuer}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', ...(session ? { 'mcp-session-id': session } : {}) },
    body: JSON.stringify({ jsonrpc: '2.0', ...body }),
  });
  const text = await res.text();
  const json = (res.headers.get('content-type') ?? '').includes('event-stream') ? text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5)).pop() : text;
  return { status: res.status, session: res.headers.get('mcp-session-id') ?? session, message: json ? (JSON.parse(json) as Record<string, unknown>) : undefined };
}

// First in this file, while the gateway's tool catalog is still cold.
describe('the first tool call on an impersonation cluster', () => {
  it('works before anything listed the tools: the catalog fetch and the call each carry their own assertion (workers accept each once)', async () => {
    const a = await browserAuthorization(browser, gw.issuer, { username: 'bob', password: env.BOB_PASSWORD, consent: 'approve' });
    await a.redirect.close();
    const t = await exchangeCode(gw.issuer, { clientId: a.clientId, code: a.response.code!, verifier: a.verifier, redirectUri: a.redirect.url });
    const token = (t.body as unknown as TokenSet).access_token;
    const init = await rpc(token, { id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'kmg-imp-it', version: '0' } } });
    const who = await rpc(token, { id: 2, method: 'tools/call', params: { name: 'whoami', arguments: {} } }, init.session);
    expect(who.status).toBe(200);
    expect((who.message?.result as { structuredContent?: { username?: string } }).structuredContent?.username).toBe('oidc:bob');
  });
});

describe('a Keycloak user on an impersonation cluster', () => {
  it('is impersonated as oidc:alice in oidc:k8s-admins, the names bearer mode gives her, so the seeded bindings apply', async () => {
    const a = await browserAuthorization(browser, gw.issuer, { username: 'alice', password: env.ALICE_PASSWORD, consent: 'approve' });
    await a.redirect.close();
    const t = await exchangeCode(gw.issuer, { clientId: a.clientId, code: a.response.code!, verifier: a.verifier, redirectUri: a.redirect.url });
    expect(t.status).toBe(200);
    const token = (t.body as unknown as TokenSet).access_token;
    const init = await rpc(token, { id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'kmg-imp-it', version: '0' } } });
    expect(init.status).toBe(200);
    const list = await rpc(token, { id: 2, method: 'tools/list', params: {} }, init.session);
    expect(list.status).toBe(200);
    const who = await rpc(token, { id: 3, method: 'tools/call', params: { name: 'whoami', arguments: {} } }, init.session);
    expect(who.status).toBe(200);
    const result = who.message?.result as { structuredContent?: { username?: string; groups?: string[] }; isError?: boolean };
    expect(result.isError).not.toBe(true);
    expect(result.structuredContent?.username).toBe('oidc:alice');
    expect(result.structuredContent?.groups).toContain('oidc:k8s-admins');
    expect(result.structuredContent?.groups?.some((g) => g.startsWith('system:') && g !== 'system:authenticated')).toBe(false);
  });
});


/** Keycloak's admin REST API for the realm, as the stack's admin. */
async function keycloakAdmin(): Promise<(method: string, p: string, body?: unknown) => Promise<Response>> {
  const raw = { ...readStackEnvRaw(), ...process.env };
  const res = await fetch(`${env.KEYCLOAK_URL}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: raw.KEYCLOAK_ADMIN_USER!, password: raw.KEYCLOAK_ADMIN_PASSWORD! }),
  });
  const token = ((await res.json()) as { access_token: string }).access_token;
  const base = `${env.KEYCLOAK_URL}/admin/realms/${env.KEYCLOAK_REALM}`;
  return (method, p, body) => fetch(`${base}${p}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
}

describe('a group removed at Keycloak', () => {
  it('is gone from the impersonated identity after the next refresh, without a new login', async () => {
    const kc = await keycloakAdmin();
    const username = `kmg-group-it-${randomBytes(3).toString('hex')}`;
    const password = randomBytes(12).toString('base64url');
    const created = await kc('POST', '/users', { username, enabled: true, emailVerified: true, email: `${username}@example.test`, firstName: 'Group', lastName: 'Test', credentials: [{ type: 'password', value: password, temporary: false }] });
    expect(created.status).toBe(201);
    const userId = ((await (await kc('GET', `/users?exact=true&username=${username}`)).json()) as { id: string }[])[0]!.id;
    try {
      const group = ((await (await kc('GET', '/groups?search=k8s-viewers&exact=true')).json()) as { id: string; name: string }[]).find((g) => g.name === 'k8s-viewers')!;
      expect((await kc('PUT', `/users/${userId}/groups/${group.id}`)).status).toBe(204);

      const a = await browserAuthorization(browser, gw.issuer, { username, password, consent: 'approve' });
      await a.redirect.close();
      const t = await exchangeCode(gw.issuer, { clientId: a.clientId, code: a.response.code!, verifier: a.verifier, redirectUri: a.redirect.url });
      expect(t.status).toBe(200);
      const first = t.body as unknown as TokenSet;
      const groupsNow = async (token: string) => {
        const init = await rpc(token, { id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'kmg-imp-it', version: '0' } } });
        const who = await rpc(token, { id: 2, method: 'tools/call', params: { name: 'whoami', arguments: {} } }, init.session);
        return (who.message?.result as { structuredContent?: { username?: string; groups?: string[] } }).structuredContent;
      };
      expect(await groupsNow(first.access_token)).toMatchObject({ username: `oidc:${username}`, groups: expect.arrayContaining(['oidc:k8s-viewers']) });

      expect((await kc('DELETE', `/users/${userId}/groups/${group.id}`)).status).toBe(204);
      const r = await refreshTokens(gw.issuer, a.clientId, first.refresh_token);
      expect(r.status).toBe(200);
      const after = await groupsNow((r.body as unknown as TokenSet).access_token);
      expect(after?.username).toBe(`oidc:${username}`);
      expect(after?.groups).not.toContain('oidc:k8s-viewers');
    } finally {
      await kc('DELETE', `/users/${userId}`);
    }
  });
});
