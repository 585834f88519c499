// Parser differential through the real stack: an in-process gateway (OAuth facade, the stack's Redis and
// Keycloak) in front of a worker process and the stack's kube-apiserver. Alice signs in with only mcp:tools:read; each
// dressing carries a real pods_delete (dryRun false) of a pod created for that row. For every row the request is
// refused or decided on consistently (the gateway refuses pods_delete to this token), and the pod still exists.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { launchBrowser } from '../support/browser-login.js';
import { adminRest, ensure, ensureNamespace, nodeNames, podManifest, startStackWorker, type WorkerProcess } from '../worker/helpers.js';
import type { KubeRest } from '@kmg/worker/k8s/rest';
import { callText, dressings } from './dressings.js';
import { startSecurityGateway, type SecurityGateway } from './harness.js';
import { signIn } from './login.js';
import { rawRequest, refused, rpcMessages } from './send.js';

const NS = 'kmg-security-diff';
let env: StackEnv;
let gw: SecurityGateway;
let worker: WorkerProcess;
let browser: Browser;
let admin: KubeRest;
let node: string;
const tokens = { read: '', write: '' };
const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };

beforeAll(async () => {
  env = loadStackEnv();
  admin = adminRest(env);
  await ensureNamespace(admin, NS);
  node = (await nodeNames(admin))[0]!;
  // A worker of this checkout's build (the stack's may run an older main).
  worker = await startStackWorker(env);
  gw = await startSecurityGateway(env, { workers: [worker.url] });
  browser = await launchBrowser();
  const alice = { username: 'alice', password: env.ALICE_PASSWORD };
  tokens.read = (await signIn(browser, gw.issuer('gw'), alice, 'mcp:tools:read')).access_token;
  tokens.write = (await signIn(browser, gw.issuer('gw'), alice, 'mcp:tools:read mcp:tools:write')).access_token;
});

afterAll(async () => {
  await browser?.close();
  await gw?.close();
  await worker?.stop();
});

async function createPod(name: string): Promise<void> {
  await ensure(admin, `/api/v1/namespaces/${NS}/pods`, podManifest(name, NS, node, { suite: 'security-diff' }));
}

/** The pod is there and nobody asked to delete it. */
async function podIntact(name: string): Promise<boolean> {
  const res = await admin.raw('GET', `/api/v1/namespaces/${NS}/pods/${name}`);
  if (res.status !== 200) return false;
  return !(JSON.parse(res.text) as { metadata: { deletionTimestamp?: string } }).metadata.deletionTimestamp;
}

const send = (token: string, h: Record<string, string | string[]>, body: Buffer | string) => rawRequest(gw.mcpUrl('gw'), { headers: { ...h, authorization: `Bearer ${token}` }, body, timeoutMs: 60_000 });

describe('the setup can tell a refusal from an execution', () => {
  it("alice's read-only token reads a pod", async () => {
    await createPod('diff-control');
    const res = await send(tokens.read, headers, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'pods_get', arguments: { namespace: NS, name: 'diff-control' } } }));
    expect(res.status, res.text).toBe(200);
    expect(refused(res), res.text).toBe(false);
    expect(res.text).toContain('diff-control');
  });

  it('with mcp:tools:write the same pods_delete is allowed by RBAC (dry run: nothing deleted)', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'pods_delete', arguments: { namespace: NS, name: 'diff-control', dryRun: true } } });
    const res = await send(tokens.write, headers, body);
    expect(res.status, res.text).toBe(200);
    expect(res.text).toContain('would be deleted');
    expect(await podIntact('diff-control')).toBe(true);
  });

  it('the read-only token is refused a plain pods_delete with 403 insufficient_scope', async () => {
    const res = await send(tokens.read, headers, callText({ tool: 'pods_delete', namespace: NS, pod: 'diff-control' }));
    expect(res.status).toBe(403);
    expect(String(res.headers['www-authenticate'])).toContain('insufficient_scope');
    expect(await podIntact('diff-control')).toBe(true);
  });
});

describe('a pods_delete from a token with only mcp:tools:read, dressed every way', () => {
  const rows = dressings({ tool: 'pods_delete', namespace: NS, pod: 'diff-0000' });
  it('has at least 30 dressings', () => expect(rows.length).toBeGreaterThanOrEqual(30));

  rows.forEach((_, i) => {
    const pod = `diff-${String(i).padStart(4, '0')}`;
    const d = dressings({ tool: 'pods_delete', namespace: NS, pod })[i]!;
    it(`refuses or decides consistently, and the pod survives: ${d.name}`, async () => {
      await createPod(pod);
      const res = await send(tokens.read, d.headers, d.body);
      const what = `${res.status} ${res.text.slice(0, 300)}`;
      // Consistent here means refused: this token may not run pods_delete, whatever the gateway parsed.
      const ranDelete = rpcMessages(res).some((m) => JSON.stringify(m.result ?? '').includes(`${pod} deleted`));
      expect(ranDelete, what).toBe(false);
      expect(res.status, what).toBeLessThan(500);
      if (res.status < 400) expect(refused(res) || rpcMessages(res).every((m) => !JSON.stringify(m).includes('"deleted":true')), what).toBe(true);
      expect(await podIntact(pod), `pod ${pod} was deleted: ${what}`).toBe(true);
    });
  });
});
