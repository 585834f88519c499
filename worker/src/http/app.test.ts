import type { AddressInfo } from 'node:net';
import { generateKeyPair, exportSPKI } from 'jose';
import { signIdentityAssertion } from '@kmg/shared';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWorkerConfig, type WorkerConfig } from '../config.js';
import { AssertionVerifier } from '../identity/impersonation.js';
import { ClientFactory } from '../k8s/clients.js';
import { DiscoveryCache } from '../k8s/discovery.js';
import { startFakeApiserver, type FakeApiserver } from '../testing/fake-apiserver.js';
import { ALL_TOOLS, buildRegistry } from '../tools/index.js';
import { createWorkerHttpServer } from './app.js';
import { Authenticator } from './auth.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const silent = pino({ level: 'silent' });
let api: FakeApiserver;
let keys: Awaited<ReturnType<typeof generateKeyPair>>;

async function startWorker(config: WorkerConfig): Promise<{ url: string; close: () => Promise<void> }> {
  const factory = new ClientFactory(config.clusters);
  const deps = { config, registry: buildRegistry(), factory, discovery: new DiscoveryCache(), logger: silent };
  const authenticator = new Authenticator(config, factory, config.assertion ? new AssertionVerifier(config.assertion) : undefined);
  const { server } = createWorkerHttpServer({ ...deps, authenticator }, silent);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/mcp`, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

function tokenOf(h: string | string[] | undefined): string {
  return String(h ?? '').replace(/^Bearer /, '');
}

beforeAll(async () => {
  keys = await generateKeyPair('ES256');
  api = await startFakeApiserver((req) => {
    const token = tokenOf(req.headers.authorization);
    if (token === 'expired') return { status: 401, body: { kind: 'Status', reason: 'Unauthorized', code: 401, message: 'Unauthorized' } };
    if (req.url?.startsWith('/apis/authentication.k8s.io/v1/selfsubjectreviews')) {
      const user = req.headers['impersonate-user'] ?? (token === 'goes-stale' ? 'stale' : 'alice');
      return { status: 201, body: { status: { userInfo: { username: user, groups: [req.headers['impersonate-group']].flat().filter(Boolean) } } } };
    }
    if (req.url?.startsWith('/api/v1/namespaces/default/pods/p') && token === 'goes-stale') return { status: 401, body: { kind: 'Status', reason: 'Unauthorized', code: 401, message: 'Unauthorized' } };
    return undefined;
  });
});
afterAll(() => api.close());

describe('HTTP authentication (bearer clusters)', () => {
  it('answers a request without credentials with 401 and WWW-Authenticate', async () => {
    const w = await startWorker(parseWorkerConfig({ clusters: [{ name: 'c', server: api.url, identity: 'bearer' }] }));
    const res = await fetch(w.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="kube-mcp-worker"/);
    await w.close();
  });

  it('answers a body over 4 MiB (a 10 MB manifest) with 413 naming the limit and the fix, not an internal error', async () => {
    const w = await startWorker(parseWorkerConfig({ clusters: [{ name: 'c', server: api.url, identity: 'bearer' }] }));
    const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {big: "${'x'.repeat(10 * 1024 * 1024)}"}\n`;
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'resources_create_or_update', arguments: { manifest } } });
    const res = await fetch(w.url, { method: 'POST', headers: { authorization: 'Bearer t', 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'request body over 4 MiB: split a large manifest into several calls' } });
    await w.close();
  });

  it('answers a token the apiserver rejects with 401 invalid_token, even for tools/list', async () => {
    const w = await startWorker(parseWorkerConfig({ clusters: [{ name: 'c', server: api.url, identity: 'bearer' }] }));
    const res = await fetch(w.url, { method: 'POST', headers: { authorization: 'Bearer expired', 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    await w.close();
  });

  it('turns an apiserver 401 during a tool call into HTTP 401, not a 200 tool error', async () => {
    const w = await startWorker(parseWorkerConfig({ clusters: [{ name: 'c', server: api.url, identity: 'bearer' }] }));
    const client = new Client({ name: 't', version: '0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(w.url), { requestInit: { headers: { authorization: 'Bearer goes-stale' } } }));
    await expect(client.callTool({ name: 'pods_get', arguments: { name: 'p' } })).rejects.toThrow(/invalid_token.*cluster c rejected the token/);
    await client.close();
    await w.close();
  });

  it('answers an apiserver 401 with HTTP 401 on the 2026-07-28 revision too', async () => {
    const w = await startWorker(parseWorkerConfig({ clusters: [{ name: 'c', server: api.url, identity: 'bearer' }] }));
    const client = new Client({ name: 't', version: '0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new StreamableHTTPClientTransport(new URL(w.url), { requestInit: { headers: { authorization: 'Bearer goes-stale' } } }));
    await expect(client.callTool({ name: 'pods_get', arguments: { name: 'p' } })).rejects.toThrow(/invalid_token/);
    await client.close();
    await w.close();
  });

  it('serves tools/list to an SDK client with a valid token', async () => {
    const w = await startWorker(parseWorkerConfig({ clusters: [{ name: 'c', server: api.url, identity: 'bearer' }] }));
    const client = new Client({ name: 't', version: '0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(w.url), { requestInit: { headers: { authorization: 'Bearer good' } } }));
    expect((await client.listTools()).tools.length).toBe(ALL_TOOLS.length);
    await client.close();
    await w.close();
  });

  it('refuses a Host header that is not allowed (DNS rebinding)', async () => {
    const w = await startWorker(parseWorkerConfig({ clusters: [{ name: 'c', server: api.url, identity: 'bearer' }] }));
    const http = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(w.url);
      const req = http.request({ host: u.hostname, port: u.port, path: '/mcp', method: 'POST', headers: { host: 'evil.example', authorization: 'Bearer good', 'content-type': 'application/json' } }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('{}');
    });
    expect(status).toBe(403);
    await w.close();
  });
});

describe('HTTP authentication (impersonation clusters)', () => {
  async function impersonationWorker() {
    const dir = mkdtempSync(path.join(tmpdir(), 'kmg-sa-'));
    const saFile = path.join(dir, 'token');
    writeFileSync(saFile, 'worker-sa-token\n');
    return startWorker(
      parseWorkerConfig({
        clusters: [{ name: 'c', server: api.url, identity: 'impersonation', serviceAccountTokenFile: saFile }],
        assertion: { issuer: 'https://gw.test', audience: 'worker-test', publicKey: await exportSPKI(keys.publicKey) },
      }),
    );
  }

  it('calls the apiserver as the asserted user with its own service account', async () => {
    const w = await impersonationWorker();
    // A fresh assertion for every HTTP request, as the gateway sends them (each jti is accepted once).
    const fresh: typeof fetch = async (input, init) => {
      const assertion = await signIdentityAssertion({ sub: 'oidc:alice', groups: ['oidc:k8s-admins'], cluster: 'c' }, keys.privateKey, { issuer: 'https://gw.test', audience: 'worker-test' });
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${assertion}`);
      return fetch(input, { ...init, headers });
    };
    const client = new Client({ name: 't', version: '0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(w.url), { fetch: fresh }));
    const res = await client.callTool({ name: 'whoami', arguments: {} });
    expect(res.structuredContent).toEqual({ username: 'oidc:alice', groups: ['oidc:k8s-admins'] });
    const seen = api.requests.filter((r) => r.url.includes('selfsubjectreviews')).at(-1)!;
    expect(seen.headers.authorization).toBe('Bearer worker-sa-token');
    expect(seen.headers['impersonate-user']).toBe('oidc:alice');
    await client.close();
    await w.close();
  });

  it('refuses a forged assertion with 401', async () => {
    const w = await impersonationWorker();
    const other = await generateKeyPair('ES256');
    const forged = await signIdentityAssertion({ sub: 'oidc:alice', groups: ['system:masters'] }, other.privateKey, { issuer: 'https://gw.test', audience: 'worker-test' });
    const res = await fetch(w.url, { method: 'POST', headers: { authorization: `Bearer ${forged}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('identity assertion rejected');
    await w.close();
  });

  it('refuses a plain bearer token when the cluster only takes assertions', async () => {
    const w = await impersonationWorker();
    const res = await fetch(w.url, { method: 'POST', headers: { authorization: 'Bearer some-keycloak-token', 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    await w.close();
  });
});
