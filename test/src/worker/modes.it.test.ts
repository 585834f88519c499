// Worker modes against the real apiserver: read-only and non-destructive tool lists, impersonation
// with a gateway-signed identity assertion (forged and expired ones refused), and stdio with a kubeconfig.
import path from 'node:path';
import { signIdentityAssertion, ASSERTION_TYPE } from '@kmg/shared';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { ALL_TOOLS } from '@kmg/worker/tools/index';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackEnv, repoRoot, type StackEnv } from '../stack/env.js';
import { kubeToken } from '../support/keycloak-tokens.js';
import { NS, setUpFixtures } from './fixtures.js';
import { adminRest, impersonatorTokenFile, mcpClient, startWorkerProcess, textOf, type WorkerProcess } from './helpers.js';

let env: StackEnv;
const started: WorkerProcess[] = [];

beforeAll(async () => {
  env = loadStackEnv();
  await setUpFixtures(adminRest(env));
});
afterAll(async () => {
  await Promise.all(started.map((w) => w.stop()));
});

async function toolNames(url: string, token: string): Promise<string[]> {
  const client = await mcpClient(url, token);
  const names = (await client.listTools()).tools.map((t) => t.name);
  await client.close();
  return names;
}

describe('tools/list in each mode', () => {
  it('read-write lists every tool, read-only none that write, non-destructive no deletes', async () => {
    const token = await kubeToken(env, 'alice');
    const readOnly = await startWorkerProcess(env, { WORKER_IDENTITY: 'bearer', WORKER_READ_ONLY: 'true' });
    const nonDestructive = await startWorkerProcess(env, { WORKER_IDENTITY: 'bearer', WORKER_NON_DESTRUCTIVE: 'true' });
    started.push(readOnly, nonDestructive);
    expect(await toolNames(env.WORKER_URLS![0]!, token)).toHaveLength(ALL_TOOLS.length);
    const ro = await toolNames(readOnly.url, token);
    expect(ro).toContain('pods_list');
    for (const w of ['resources_create_or_update', 'resources_patch', 'resources_delete', 'resources_scale', 'pods_exec', 'pods_delete', 'pods_port_forward', 'rollout_restart', 'helm_rollback', 'pods_debug']) expect(ro).not.toContain(w);
    for (const r of ['helm_history', 'nodes_log']) expect(ro).toContain(r);
    const nd = await toolNames(nonDestructive.url, token);
    expect(nd).toContain('resources_scale');
    for (const w of ['resources_delete', 'pods_delete', 'pods_exec', 'helm_rollback', 'pods_debug']) expect(nd).not.toContain(w);
  });
});

describe('impersonation mode', () => {
  let worker: WorkerProcess;
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  const issuer = 'https://gateway.kmg.test';
  const audience = 'kmg-worker-impersonation';

  beforeAll(async () => {
    const admin = adminRest(env);
    const tokenFile = await impersonatorTokenFile(admin, NS, 'kmg-worker-impersonator');
    keys = await generateKeyPair('ES256');
    worker = await startWorkerProcess(env, {
      WORKER_IDENTITY: 'impersonation',
      WORKER_SA_TOKEN_FILE: tokenFile,
      WORKER_ASSERTION_ISSUER: issuer,
      WORKER_ASSERTION_AUDIENCE: audience,
      WORKER_ASSERTION_PUBLIC_KEY: await exportSPKI(keys.publicKey),
    });
    started.push(worker);
  });

  it('acts as the asserted user and groups, so RBAC applies to them', async () => {
    // A fresh assertion per HTTP request, as the gateway sends them: each jti is accepted once.
    const fresh: typeof fetch = async (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${await signIdentityAssertion({ sub: 'oidc:bob', groups: ['oidc:k8s-viewers'], cluster: 'default' }, keys.privateKey, { issuer, audience })}`);
      return fetch(input, { ...init, headers });
    };
    const client = await mcpClient(worker.url, undefined, fresh);
    const who = await client.callTool({ name: 'whoami', arguments: {} });
    expect(who.structuredContent).toMatchObject({ username: 'oidc:bob' });
    expect((who.structuredContent as { groups: string[] }).groups).toContain('oidc:k8s-viewers');
    expect(textOf(await client.callTool({ name: 'pods_list', arguments: { namespace: NS } }))).toContain('it-runner');
    const del = await client.callTool({ name: 'pods_delete', arguments: { name: 'it-runner', namespace: NS } });
    expect(del.isError).toBe(true);
    expect(textOf(del)).toMatch(/^Forbidden: .*User "oidc:bob" cannot delete resource "pods"/);
    await client.close();
  });

  it('refuses a forged assertion (signed by another key) with 401', async () => {
    const other = await generateKeyPair('ES256');
    const forged = await signIdentityAssertion({ sub: 'oidc:alice', groups: ['system:masters'] }, other.privateKey, { issuer, audience });
    const res = await fetch(worker.url, { method: 'POST', headers: { authorization: `Bearer ${forged}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('refuses an expired assertion with 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ groups: ['oidc:k8s-admins'] })
      .setProtectedHeader({ alg: 'ES256', typ: ASSERTION_TYPE })
      .setSubject('oidc:alice').setIssuer(issuer).setAudience(audience)
      .setIssuedAt(now - 400).setExpirationTime(now - 200)
      .sign(keys.privateKey);
    const res = await fetch(worker.url, { method: 'POST', headers: { authorization: `Bearer ${expired}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}' });
    expect(res.status).toBe(401);
  });

  it('refuses a Keycloak token where only assertions are accepted', async () => {
    const res = await fetch(worker.url, { method: 'POST', headers: { authorization: `Bearer ${await kubeToken(env, 'alice')}`, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
  });
});

describe('stdio mode', () => {
  it('lists tools and acts with the local kubeconfig', async () => {
    const client = new Client({ name: 'stdio-it', version: '0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [path.join(repoRoot, 'worker', 'dist', 'main.js'), '--stdio'],
        env: { PATH: process.env.PATH ?? '', KUBECONFIG: env.KUBECONFIG_ADMIN, LOG_LEVEL: 'warn' },
        stderr: 'pipe',
      }),
    );
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toHaveLength(ALL_TOOLS.length);
    const res = await client.callTool({ name: 'namespaces_list', arguments: { limit: 500 } });
    expect(textOf(res)).toContain(NS);
    const cl = await client.callTool({ name: 'clusters_list', arguments: {} });
    expect(cl.structuredContent).toMatchObject({ clusters: [{ name: 'local', identity: 'kubeconfig' }] });
    await client.close();
  });
});
