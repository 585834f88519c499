// Cluster confusion, impersonated system: names and assertion replay (issue 10, findings 5, 3 and 11), against the
// real kube-apiserver: workers from this checkout's build serving two clusters ("stack" and "twin", the same
// apiserver under two names, as one worker pool serving several clusters would), bearer and impersonation.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { signIdentityAssertion } from '@kmg/shared';
import type { Client } from '@modelcontextprotocol/client';
import { exportSPKI, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { kubeToken } from '../support/keycloak-tokens.js';
import { NS, setUpFixtures } from './fixtures.js';
import { adminRest, impersonatorTokenFile, mcpClient, startWorkerProcess, textOf, type WorkerProcess } from './helpers.js';

let env: StackEnv;
let dir: string;
const started: WorkerProcess[] = [];
const issuer = 'https://gateway.kmg.test';
const audience = 'kmg-worker-pinning';
let keys: Awaited<ReturnType<typeof generateKeyPair>>;

/** A worker from worker/dist serving `stack` and `twin` with this identity mode. */
async function twoClusterWorker(identity: 'bearer' | 'impersonation', saTokenFile?: string): Promise<WorkerProcess> {
  const cluster = (name: string) => ({
    name, server: env.KUBE_APISERVER_URL, caFile: env.KUBE_CA_FILE, identity,
    ...(saTokenFile ? { serviceAccountTokenFile: saTokenFile } : {}),
  });
  const config = {
    clusters: [cluster('stack'), cluster('twin')],
    ...(identity === 'impersonation' ? { assertion: { issuer, audience, publicKey: await exportSPKI(keys.publicKey) } } : {}),
  };
  const file = path.join(dir, `worker-${identity}.yaml`);
  writeFileSync(file, stringify(config));
  const w = await startWorkerProcess(env, { KMG_WORKER_CONFIG: file });
  started.push(w);
  return w;
}

async function rawPost(url: string, headers: Record<string, string>, body: unknown = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '', text: await res.text() };
}

/** An MCP client whose every HTTP request carries these (fresh) headers. */
async function clientWith(url: string, headers: () => Promise<Record<string, string>>): Promise<Client> {
  const f: typeof fetch = async (input, init) => {
    const h = new Headers(init?.headers);
    for (const [k, v] of Object.entries(await headers())) h.set(k, v);
    return fetch(input, { ...init, headers: h });
  };
  return mcpClient(url, undefined, f);
}

beforeAll(async () => {
  env = loadStackEnv();
  dir = mkdtempSync(path.join(tmpdir(), 'kmg-pin-it-'));
  keys = await generateKeyPair('ES256');
  await setUpFixtures(adminRest(env));
});
afterAll(async () => {
  await Promise.all(started.map((w) => w.stop()));
});

describe('bearer worker serving two clusters', () => {
  let worker: WorkerProcess;
  let token: string;
  beforeAll(async () => {
    worker = await twoClusterWorker('bearer');
    token = await kubeToken(env, 'alice');
  });

  it('refuses a request that does not say which cluster it is for (400), rather than using a default', async () => {
    const res = await rawPost(worker.url, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(400);
    expect(res.text).toContain('send x-kmg-cluster');
    expect(res.text).not.toContain('pods_list');
  });

  it('refuses arguments.cluster naming another cluster than the gateway pinned, and runs nothing', async () => {
    const alice = await clientWith(worker.url, async () => ({ authorization: `Bearer ${token}`, 'x-kmg-cluster': 'twin' }));
    const res = await alice.callTool({ name: 'pods_delete', arguments: { cluster: 'stack', name: 'it-runner', namespace: NS, dryRun: true } });
    expect(res.isError).toBe(true);
    expect(textOf(res)).toMatch(/^this request is for cluster twin, but arguments.cluster names "stack": nothing was run/);
    expect(textOf(res)).not.toContain('would be deleted');
    const who = await alice.callTool({ name: 'whoami', arguments: {} });
    expect(who.structuredContent).toMatchObject({ username: 'oidc:alice' });
    expect(textOf(who)).toContain('cluster: twin');
    await alice.close();
  });

  it('refuses a header naming a cluster the worker does not serve', async () => {
    expect((await rawPost(worker.url, { authorization: `Bearer ${token}`, 'x-kmg-cluster': 'elsewhere' })).status).toBe(400);
  });
});

describe('impersonation worker serving two clusters', () => {
  let worker: WorkerProcess;
  const sign = (claims: { sub?: string; groups?: string[]; cluster?: string }) =>
    signIdentityAssertion({ sub: claims.sub ?? 'oidc:bob', groups: claims.groups ?? ['oidc:k8s-viewers'], ...(claims.cluster ? { cluster: claims.cluster } : {}) }, keys.privateKey, { issuer, audience });

  beforeAll(async () => {
    const admin = adminRest(env);
    worker = await twoClusterWorker('impersonation', await impersonatorTokenFile(admin, NS, 'kmg-worker-pinning'));
  });

  it('acts as the asserted user on the cluster the assertion and the header agree on', async () => {
    const bob = await clientWith(worker.url, async () => ({ authorization: `Bearer ${await sign({ cluster: 'twin' })}`, 'x-kmg-cluster': 'twin' }));
    const who = await bob.callTool({ name: 'whoami', arguments: {} });
    expect(who.structuredContent).toMatchObject({ username: 'oidc:bob' });
    expect(textOf(who)).toContain('cluster: twin');
    const other = await bob.callTool({ name: 'pods_list', arguments: { cluster: 'stack', namespace: NS } });
    expect(other.isError).toBe(true);
    expect(textOf(other)).not.toContain('it-runner');
    await bob.close();
  });

  it('refuses (401) an assertion signed for one cluster on a request pinned to the other', async () => {
    const res = await rawPost(worker.url, { authorization: `Bearer ${await sign({ cluster: 'stack' })}`, 'x-kmg-cluster': 'twin' });
    expect(res.status).toBe(401);
    expect(res.challenge).toContain('signed for cluster stack, not twin');
    expect(res.text).not.toContain('pods_list');
  });

  it('refuses (401) an assertion that names no cluster', async () => {
    const res = await rawPost(worker.url, { authorization: `Bearer ${await sign({})}`, 'x-kmg-cluster': 'stack' });
    expect(res.status).toBe(401);
    expect(res.challenge).toContain('names no cluster');
  });

  it('never impersonates a system: user or group (system:masters would be cluster-admin)', async () => {
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'resources_get', arguments: { kind: 'Secret', name: 'web-credentials', namespace: 'team-a', format: 'full' } } };
    for (const claims of [{ groups: ['system:masters'] }, { sub: 'system:admin' }, { sub: 'system:serviceaccount:kube-system:default', groups: [] }, { groups: ['SYSTEM:MASTERS'] }]) {
      const res = await rawPost(worker.url, { authorization: `Bearer ${await sign({ ...claims, cluster: 'stack' })}`, 'x-kmg-cluster': 'stack' }, call);
      expect(res.status, JSON.stringify(claims)).toBe(401);
      expect(res.challenge).toContain('system: users and groups are never impersonated');
      expect(res.text).not.toContain(env.SEED_SECRET_VALUE);
      expect(res.text).not.toContain(Buffer.from(env.SEED_SECRET_VALUE).toString('base64'));
      expect(res.text).not.toContain('web-credentials');
    }
  });

  it('accepts each assertion once: a replayed one is refused with 401', async () => {
    const assertion = await sign({ cluster: 'stack' });
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'pods_list', arguments: { namespace: NS } } };
    const headers = { authorization: `Bearer ${assertion}`, 'x-kmg-cluster': 'stack' };
    const first = await rawPost(worker.url, headers, call);
    expect(first.status).toBe(200);
    expect(first.text).toContain('it-runner');
    const replay = await rawPost(worker.url, headers, call);
    expect(replay.status).toBe(401);
    expect(replay.challenge).toContain('already used');
    expect(replay.text).not.toContain('it-runner');
  });
});
