// Issue 10 finding 1 through the real stack: the gateway decides on exactly the message the worker executes.
// A UTF-8 BOM in front of a pods_delete used to make the gateway's parse fail, skip policy and audit, and forward
// the raw bytes, which the worker's SDK parsed and ran. alice may delete pods (cluster RBAC), but the `scoped`
// org wants mcp:tools:write for write tools, which her Keycloak token does not carry.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { userToken } from '../support/keycloak-tokens.js';
import { adminRest, createPods, ensureNamespace, waitFor } from '../worker/helpers.js';
import type { KubeRest } from '@kmg/worker/k8s/rest';
import { sharedSecrets, startGateway, tapWorker, type Tap, type TestGateway } from './harness.js';
import { readAuditLines } from '../support/audit-lines.js';

const NS = 'kmg-gateway-parse-it';
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
let env: StackEnv;
let admin: KubeRest;
let gw: TestGateway;
let tap: Tap;
let token = '';
let dir = '';
let auditFile = '';

const post = (org: string, body: Buffer, headers: Record<string, string> = {}) =>
  fetch(gw.mcpUrl(org), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-06-18', ...headers },
    body,
  });
const deleteCall = (name: string, id = 1) => Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'pods_delete', arguments: { namespace: NS, name } } }));
const podExists = async (name: string) => (await admin.raw('GET', `/api/v1/namespaces/${NS}/pods/${name}`)).status === 200;
const auditLines = (): Array<Record<string, unknown>> => readAuditLines(auditFile);

beforeAll(async () => {
  env = loadStackEnv();
  admin = adminRest(env);
  await ensureNamespace(admin, NS);
  await createPods(admin, NS, 'bom', 2);
  dir = mkdtempSync(path.join(tmpdir(), 'kmg-parse-it-'));
  auditFile = path.join(dir, 'audit.jsonl');
  tap = await tapWorker(env.WORKER_URLS![0]!);
  gw = await startGateway(env, { ...sharedSecrets(), workers: [tap.url], audit: auditFile });
  token = (await userToken(env, 'alice')).access_token;
});

afterAll(async () => {
  await gw?.close();
  await tap?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a BOM does not get a call past the gateway', () => {
  it('refuses a BOM-prefixed pods_delete from a token without mcp:tools:write, the pod stays, the refusal is audited', async () => {
    tap.bodies.length = 0;
    const res = await post('scoped', Buffer.concat([BOM, deleteCall('bom-0000')]));
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('insufficient_scope');
    // The gateway may ask the worker for tools/list (to learn annotations); the call itself never goes.
    expect(tap.bodies.filter((b) => b.includes('pods_delete'))).toEqual([]);
    expect(await podExists('bom-0000')).toBe(true);
    await waitFor('the refusal in the audit file', async () => auditLines().some((l) => l.tool === 'pods_delete' && l.outcome === 'insufficient_scope'), 10_000);
    expect(auditLines().find((l) => l.tool === 'pods_delete')).toMatchObject({ user: 'alice', org: 'scoped', status: 403 });
  });

  it('runs an allowed BOM-prefixed call exactly as parsed (the worker gets it without the BOM)', async () => {
    const res = await post('rs', Buffer.concat([BOM, deleteCall('bom-0001', 2)]));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('bom-0001');
    await waitFor('the pod to go', async () => !(await podExists('bom-0001')), 20_000);
  });

  it('refuses what it cannot read (invalid UTF-8, duplicate keys, a foreign charset) before the worker sees it', async () => {
    tap.bodies.length = 0;
    const invalid = await post('rs', Buffer.concat([deleteCall('bom-0000').subarray(0, 10), Buffer.from([0xff]), deleteCall('bom-0000').subarray(10)]));
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { code: number } }).error.code).toBe(-32700);
    const dup = await post('scoped', Buffer.from(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"pods_list","name":"pods_delete","arguments":{"namespace":"${NS}","name":"bom-0000"}}}`));
    expect(dup.status).toBe(400);
    const utf16 = await post('rs', Buffer.from(`\ufeff${deleteCall('bom-0000').toString()}`, 'utf16le'), { 'content-type': 'application/json; charset=utf-16' });
    expect(utf16.status).toBe(415);
    expect(tap.bodies.filter((b) => b.includes('bom-0000'))).toEqual([]);
    expect(await podExists('bom-0000')).toBe(true);
  });

  it('gives the worker only allow-listed headers and the cluster it decided for', async () => {
    tap.seen.length = 0;
    const res = await post('rs', Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'whoami', arguments: {} } })), {
      'impersonate-user': 'system:admin',
      'impersonate-group': 'system:masters',
      'x-remote-user': 'admin',
      'x-kmg-cluster': 'elsewhere',
      cookie: 'sid=1',
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('oidc:alice');
    expect(text).not.toContain('system:admin');
    expect(tap.seen.length).toBeGreaterThan(0);
    for (const h of tap.seen) {
      expect(Object.keys(h).filter((k) => k.startsWith('impersonate') || k.startsWith('x-remote') || k === 'cookie')).toEqual([]);
      expect(h['x-kmg-cluster']).toBe('stack');
    }
  });
});
