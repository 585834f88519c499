// Impersonation names: an identity-provider name must never become a Kubernetes system: user or group. A Keycloak
// user in a Keycloak group called system:masters (made by this suite through Keycloak's admin API) signs in at an
// in-process gateway whose cluster `imp` impersonates, through an impersonation worker of this suite's own; and
// the worker is handed identity assertions naming system: users and groups, replayed, or for another cluster.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import { signIdentityAssertion } from '@kmg/shared';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { request } from '../stack/http.js';
import { tokenRequest } from '../support/keycloak-tokens.js';
import { adminRest, ensure, ensureNamespace, startWorkerProcess, waitFor, type WorkerProcess } from '../worker/helpers.js';
import { startSecurityGateway, type SecurityGateway } from './harness.js';
import { LeakWatch } from './leaks.js';
import { rawRequest, rpcMessages, type RawResponse } from './send.js';

const NS = 'kmg-security-imp';
const AUDIENCE = 'kmg-security-impersonation';
const ISSUER = 'https://gateway.kmg.test/security-impersonation';
let env: StackEnv;
let worker: WorkerProcess;
let gw: SecurityGateway;
let keys: Awaited<ReturnType<typeof generateKeyPair>>;
let watch: LeakWatch;
const mallory = { username: `mallory-${randomBytes(3).toString('hex')}`, password: randomBytes(12).toString('base64url') };
let malloryToken = '';
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
const call = (name: string, args: Record<string, unknown> = {}) => JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: args } });

/** Keycloak's admin REST API as the stack's admin. */
async function keycloakAdmin(env: StackEnv): Promise<(method: string, p: string, body?: unknown) => Promise<{ status: number; text: string }>> {
  const t = await request(`${env.KEYCLOAK_URL}/realms/master/protocol/openid-connect/token`, {
    method: 'POST', caFile: env.STACK_CA_FILE, headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: env.KEYCLOAK_ADMIN_USER, password: env.KEYCLOAK_ADMIN_PASSWORD }).toString(),
  });
  if (t.status !== 200) throw new Error(`keycloak admin token: ${t.status} ${t.text.slice(0, 200)}`);
  const bearer = (JSON.parse(t.text) as { access_token: string }).access_token;
  return (method, p, body) => request(`${env.KEYCLOAK_URL}/admin/realms/${env.KEYCLOAK_REALM}${p}`, {
    method, caFile: env.STACK_CA_FILE, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}),
  });
}

function user(username: string, password: string, groups: string[]) {
  return { username, enabled: true, emailVerified: true, email: `${username.replace(/[^a-z0-9-]/gi, '-')}@kmg.test`, firstName: 'Test', lastName: 'User', credentials: [{ type: 'password', value: password, temporary: false }], groups: groups.map((g) => `/${g}`) };
}

beforeAll(async () => {
  env = loadStackEnv();
  const kc = await keycloakAdmin(env);
  const g = await kc('POST', '/groups', { name: 'system:masters' });
  if (g.status !== 201 && g.status !== 409) throw new Error(`group: ${g.status} ${g.text}`);
  const u = await kc('POST', '/users', user(mallory.username, mallory.password, ['system:masters']));
  if (u.status !== 201) throw new Error(`user: ${u.status} ${u.text}`);
  malloryToken = (await tokenRequest(env, { grant_type: 'password', client_id: env.TEST_CLIENT_ID, client_secret: env.TEST_CLIENT_SECRET, username: mallory.username, password: mallory.password, scope: 'openid' })).access_token;

  // The worker impersonates with a service account that may impersonate anyone (the apiserver allows it).
  const admin = adminRest(env);
  await ensureNamespace(admin, NS);
  const sa = 'kmg-security-impersonator';
  await ensure(admin, `/api/v1/namespaces/${NS}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: NS } });
  await ensure(admin, '/apis/rbac.authorization.k8s.io/v1/clusterroles', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: sa }, rules: [{ apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] }] });
  await ensure(admin, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: sa },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: sa }, subjects: [{ kind: 'ServiceAccount', name: sa, namespace: NS }],
  });
  const tr = await admin.json<{ status: { token: string } }>('POST', `/api/v1/namespaces/${NS}/serviceaccounts/${sa}/token`, { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } } });
  const dir = mkdtempSync(path.join(tmpdir(), 'kmg-sec-imp-'));
  const tokenFile = path.join(dir, 'token');
  const keyFile = path.join(dir, 'identity.pem');
  writeFileSync(tokenFile, tr.status.token);
  keys = await generateKeyPair('ES256', { extractable: true });
  writeFileSync(keyFile, await exportPKCS8(keys.privateKey), { mode: 0o600 });
  worker = await startWorkerProcess(env, {
    WORKER_IDENTITY: 'impersonation', WORKER_CLUSTER_NAME: 'imp', WORKER_SA_TOKEN_FILE: tokenFile,
    WORKER_ASSERTION_ISSUER: ISSUER, WORKER_ASSERTION_AUDIENCE: AUDIENCE, WORKER_ASSERTION_PUBLIC_KEY: await exportSPKI(keys.publicKey),
  });
  gw = await startSecurityGateway(env, { workers: [worker.url], impersonation: { workers: [worker.url], audience: AUDIENCE, signingKeyFile: keyFile, issuer: ISSUER } });
  await waitFor('the gateway to see the impersonation worker', async () => (await post(call('whoami'), malloryToken)).status !== 502, 20_000);
  watch = new LeakWatch(gw.logs, () => [env.SEED_SECRET_VALUE, env.GATEWAY_CLIENT_SECRET, mallory.password], () => [malloryToken]);
}, 180_000);

afterAll(async () => {
  await gw?.close();
  await worker?.stop();
  const kc = await keycloakAdmin(env).catch(() => undefined);
  const found = await kc?.('GET', `/users?exact=true&username=${mallory.username}`);
  const id = found?.status === 200 ? (JSON.parse(found.text) as Array<{ id: string }>)[0]?.id : undefined;
  if (kc && id) await kc('DELETE', `/users/${id}`);
});

beforeEach(() => watch?.mark());

async function post(body: string, token: string): Promise<RawResponse> {
  const res = await rawRequest(gw.mcpUrl('imp'), { headers: { ...JSON_HEADERS, authorization: `Bearer ${token}` }, body });
  watch?.saw(res.text);
  return res;
}

const resultOf = (r: RawResponse) => (rpcMessages(r)[0]?.result ?? {}) as { isError?: boolean; structuredContent?: { username?: string; groups?: string[] }; content?: Array<{ text?: string }> };
const textOf = (r: RawResponse) => (resultOf(r).content ?? []).map((c) => c.text ?? '').join('\n');

describe('a Keycloak group named system:masters', () => {
  it('never becomes the Kubernetes group system:masters on an impersonation cluster', async () => {
    const r = await post(call('whoami'), malloryToken);
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    const groups = resultOf(r).structuredContent?.groups ?? [];
    expect(groups).not.toContain('system:masters');
    expect(groups.filter((g) => g.startsWith('system:') && g !== 'system:authenticated')).toEqual([]);
    expect(resultOf(r).structuredContent?.username).toBe(`oidc:${mallory.username}`);
    watch.check();
  });

  it('gives its member no access to Secrets (Forbidden, no value)', async () => {
    const r = await post(call('resources_get', { kind: 'Secret', apiVersion: 'v1', namespace: 'team-a', name: 'web-credentials', format: 'full' }), malloryToken);
    expect(resultOf(r).isError, textOf(r)).toBe(true);
    expect(textOf(r)).toMatch(/forbidden/i);
    watch.check();
  });

  it('gives its member no delete (dry run refused by RBAC)', async () => {
    const r = await post(call('pods_delete', { namespace: 'team-a', name: 'web-7d9f8b6c5d-x2k4p', dryRun: true }), malloryToken);
    expect(resultOf(r).isError, textOf(r)).toBe(true);
    expect(textOf(r)).not.toContain('would be deleted');
    watch.check();
  });
});

describe('identity assertions the worker must refuse', () => {
  const sign = (claims: { sub: string; groups?: string[]; cluster?: string }) => signIdentityAssertion({ groups: [], cluster: 'imp', ...claims }, keys.privateKey, { issuer: ISSUER, audience: AUDIENCE });
  const direct = (assertion: string, body = call('whoami')) => rawRequest(worker.url, { headers: { ...JSON_HEADERS, authorization: `Bearer ${assertion}` }, body });
  const refusedOrNotSystem = (r: RawResponse) => {
    if (r.status === 401 || r.status === 403 || r.status === 400) return true;
    const res = resultOf(r);
    if (res.isError) return true;
    const sc = res.structuredContent ?? {};
    return !String(sc.username ?? '').startsWith('system:') && !(sc.groups ?? []).includes('system:masters');
  };

  it('refuses an assertion for user system:admin', async () => {
    const r = await direct(await sign({ sub: 'system:admin' }));
    expect(refusedOrNotSystem(r), r.text.slice(0, 300)).toBe(true);
    expect(r.status).toBe(401);
  });

  it('refuses an assertion for user system:kube-controller-manager', async () => {
    const r = await direct(await sign({ sub: 'system:kube-controller-manager' }));
    expect(r.status, r.text.slice(0, 300)).toBe(401);
  });

  it('refuses an assertion carrying group system:masters', async () => {
    const r = await direct(await sign({ sub: 'oidc:mallory', groups: ['system:masters'] }));
    expect(r.status, r.text.slice(0, 300)).toBe(401);
  });

  it('refuses the same assertion presented twice (jti replay)', async () => {
    const a = await sign({ sub: 'oidc:alice', groups: ['oidc:k8s-admins'] });
    const first = await direct(a);
    expect(first.status, first.text.slice(0, 300)).toBe(200);
    const replay = await direct(a);
    expect(replay.status, replay.text.slice(0, 300)).toBe(401);
  });

  it('refuses an assertion signed for another cluster', async () => {
    const r = await direct(await sign({ sub: 'oidc:alice', groups: ['oidc:k8s-admins'], cluster: 'prod' }));
    expect(r.status, r.text.slice(0, 300)).toBe(401);
    expect(r.text).not.toContain(env.SEED_SECRET_VALUE);
  });
});
