// Parser differential, unit: the real gateway app (OAuth facade with a fake IdP, in-memory store) in front of the
// real worker HTTP server (its SDK parses the body) in front of a fake apiserver that records what was executed.
// The caller's token has only mcp:tools:read. For every dressing of a pods_delete: the delete never reaches the
// apiserver, a refusal (4xx) executes nothing, and every tool the worker did run was seen and audited by the gateway.
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '@kmg/gateway/config/schema';
import { obtainCode, pkce, registerClient, REDIRECT, testApp } from '@kmg/gateway/oauth/testing';
import { parseWorkerConfig } from '@kmg/worker/config';
import { createWorkerHttpServer } from '@kmg/worker/http/app';
import { Authenticator } from '@kmg/worker/http/auth';
import { ClientFactory } from '@kmg/worker/k8s/clients';
import { DiscoveryCache } from '@kmg/worker/k8s/discovery';
import { startFakeApiserver, type FakeApiserver } from '@kmg/worker/testing/fake-apiserver';
import { buildRegistry } from '@kmg/worker/tools/index';
import { dressings, callText, type Target } from './dressings.js';
import { rawRequest, type RawResponse } from './send.js';

const T: Target = { tool: 'pods_delete', namespace: 'team-a', pod: 'victim' };
const dir = mkdtempSync(path.join(tmpdir(), 'kmg-diff-'));
const auditFile = path.join(dir, 'audit.jsonl');
let api: FakeApiserver;
let worker: http.Server;
let gateway: http.Server;
let mcpUrl: string;
const tokens = { read: '', write: '' };

const listen = async (s: http.Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
};

beforeAll(async () => {
  api = await startFakeApiserver((req) => {
    if (req.method === 'DELETE' && req.url?.startsWith(`/api/v1/namespaces/${T.namespace}/pods/`)) {
      return { status: 200, body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: T.pod, namespace: T.namespace } } };
    }
    if (req.method === 'GET' && req.url?.startsWith(`/api/v1/namespaces/${T.namespace}/pods`)) {
      return { status: 200, body: { apiVersion: 'v1', kind: 'PodList', metadata: {}, items: [] } };
    }
    return undefined;
  });
  // The worker acts with a kubeconfig of its own (loopback only), so no credential plumbing hides a parse.
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'fake',
    clusters: [{ name: 'fake', cluster: { server: api.url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'u', user: { token: 'fake' } }],
    contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'u' } }],
  }));
  const wcfg = parseWorkerConfig({ clusters: [{ name: 'c1', identity: 'kubeconfig', kubeconfig, context: 'fake' }] });
  const factory = new ClientFactory(wcfg.clusters);
  const silent = pino({ level: process.env.KMG_DIFF_LOG ?? 'silent' });
  worker = createWorkerHttpServer({ config: wcfg, registry: buildRegistry(), factory, discovery: new DiscoveryCache(), logger: silent, authenticator: new Authenticator(wcfg, factory, undefined) }, silent).server;
  const workerPort = await listen(worker);

  const keycloak = { issuer: 'https://kc.test/realms/mcp', clientSecret: 'secret' };
  const config = configSchema.parse({
    publicUrl: 'https://gw.test',
    audit: { destination: auditFile },
    orgs: [{
      name: 'acme',
      oauth: { keycloak },
      clusters: [{ name: 'c1', workers: [`http://127.0.0.1:${workerPort}/mcp`], identity: 'worker' }],
      rateLimits: { perUser: { requests: 100_000 }, perClient: { requests: 100_000 } },
    }],
  });
  const { app } = testApp(config);
  for (const scope of ['read', 'write'] as const) {
    const client = await registerClient(app);
    const p = pkce();
    const { code } = await obtainCode(app, client.client_id, p.challenge, '/orgs/acme', { scope: scope === 'read' ? 'mcp:tools:read' : 'mcp:tools:read mcp:tools:write' });
    const res = await request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'authorization_code', code, code_verifier: p.verifier, client_id: client.client_id, redirect_uri: REDIRECT });
    if (res.status !== 200) throw new Error(`token: ${res.status} ${res.text}`);
    tokens[scope] = (res.body as { access_token: string }).access_token;
  }
  gateway = http.createServer(app);
  mcpUrl = `http://127.0.0.1:${await listen(gateway)}/orgs/acme/mcp`;
});

afterAll(async () => {
  for (const s of [gateway, worker]) {
    s?.closeAllConnections();
    await new Promise((r) => (s ? s.close(() => r(undefined)) : r(undefined)));
  }
  await api?.close();
});

function auditedTools(): string[] {
  if (!existsSync(auditFile)) return [];
  return readFileSync(auditFile, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { tool: string }).tool);
}

/** Audit lines are written when the response closes; waits (bounded) until `n` lines exist. */
async function auditCount(n: number): Promise<number> {
  for (let i = 0; i < 50 && auditedTools().length < n; i++) await new Promise((r) => setTimeout(r, 20));
  return auditedTools().length;
}

/** What the apiserver was asked to do while `fn` ran: the worker's executions. */
async function executed(fn: () => Promise<RawResponse>): Promise<{ res: RawResponse; deletes: number; reads: number; audited: string[] }> {
  const before = api.requests.length;
  const auditBefore = auditedTools().length;
  const res = await fn();
  const seen = api.requests.slice(before).filter((r) => r.url.includes(`/namespaces/${T.namespace}/pods`));
  const deletes = seen.filter((r) => r.method === 'DELETE').length;
  const reads = seen.filter((r) => r.method === 'GET').length;
  await auditCount(auditBefore + deletes + reads);
  return { res, deletes, reads, audited: auditedTools().slice(auditBefore) };
}

const send = (token: string, headers: Record<string, string | string[]>, body: Buffer | string) =>
  rawRequest(mcpUrl, { headers: { ...headers, authorization: `Bearer ${token}` }, body });

const plainHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };

describe('the differential harness can see an execution', () => {
  it('a plain pods_list from the read-only token runs, and the gateway audits it', async () => {
    const r = await executed(() => send(tokens.read, plainHeaders, callText(T, 'pods_list')));
    expect(r.res.status, r.res.text).toBe(200);
    expect(r.reads, r.res.text).toBe(1);
    expect(r.audited).toContain('pods_list');
  });

  it('a plain pods_delete from a token with mcp:tools:write reaches the apiserver as a DELETE', async () => {
    const r = await executed(() => send(tokens.write, plainHeaders, callText(T)));
    expect(r.res.status, r.res.text).toBe(200);
    expect(r.deletes, r.res.text).toBe(1);
    expect(r.audited).toContain('pods_delete');
  });
});

describe('every dressing of a pods_delete from a token with only mcp:tools:read', () => {
  const rows = dressings(T);
  it('the table has at least 30 dressings', () => {
    expect(rows.length).toBeGreaterThanOrEqual(30);
    expect(new Set(rows.map((d) => d.name)).size).toBe(rows.length);
  });

  for (const d of rows) {
    it(`refuses or decides consistently: ${d.name}`, async () => {
      const r = await executed(() => send(tokens.read, d.headers, d.body));
      // The gateway's policy refuses pods_delete to this token, so the worker must never run it.
      expect(r.deletes, `${r.res.status} ${r.res.text.slice(0, 300)}`).toBe(0);
      // A refused request runs nothing at all.
      if (r.res.status >= 400) expect(r.reads, r.res.text.slice(0, 300)).toBe(0);
      // Whatever the worker did run, the gateway saw and audited as that tool (no call passes unseen).
      for (let i = 0; i < r.reads; i++) expect(r.audited).toContain('pods_list');
      expect(r.res.status).toBeLessThan(500);
    });
  }
});
