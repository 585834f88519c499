import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ASSERTION_TYPE, signIdentityAssertion } from '@kmg/shared';
import { Client, StreamableHTTPClientTransport, type CallToolResult } from '@modelcontextprotocol/client';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWorkerConfig, type WorkerConfig } from '../config.js';
import { AssertionVerifier } from '../identity/impersonation.js';
import { ReplayCache } from '../identity/replay.js';
import { ClientFactory } from '../k8s/clients.js';
import { DiscoveryCache } from '../k8s/discovery.js';
import { startFakeApiserver, type FakeApiserver } from '../testing/fake-apiserver.js';
import { buildRegistry } from '../tools/index.js';
import { createWorkerHttpServer } from './app.js';
import { Authenticator } from './auth.js';

// Two apiservers, "a" and "b": every test asserts which one (if any) a request reached.
const silent = pino({ level: 'silent' });
const issuer = 'https://gw.test';
const audience = 'worker-test';
let a: FakeApiserver;
let b: FakeApiserver;
let keys: Awaited<ReturnType<typeof generateKeyPair>>;
let saFile: string;

function fakeCluster(name: string): Promise<FakeApiserver> {
  return startFakeApiserver((req) => {
    if (req.url?.startsWith('/apis/authentication.k8s.io/v1/selfsubjectreviews')) {
      const user = req.headers['impersonate-user'] ?? `bearer-user-on-${name}`;
      return { status: 201, body: { status: { userInfo: { username: user, groups: [req.headers['impersonate-group']].flat().filter(Boolean) } } } };
    }
    return undefined;
  });
}

beforeAll(async () => {
  [a, b] = await Promise.all([fakeCluster('a'), fakeCluster('b')]);
  keys = await generateKeyPair('ES256');
  const dir = mkdtempSync(path.join(tmpdir(), 'kmg-pin-'));
  saFile = path.join(dir, 'token');
  writeFileSync(saFile, 'worker-sa-token\n');
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
});

async function startWorker(config: WorkerConfig, replays?: ReplayCache): Promise<{ url: string; close: () => Promise<void> }> {
  const factory = new ClientFactory(config.clusters);
  const deps = { config, registry: buildRegistry(), factory, discovery: new DiscoveryCache(), logger: silent };
  const verifier = config.assertion ? new AssertionVerifier(config.assertion, replays) : undefined;
  const { server } = createWorkerHttpServer({ ...deps, authenticator: new Authenticator(config, factory, verifier) }, silent);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/mcp`, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

const bearerConfig = (clusters: Array<[string, FakeApiserver]>) =>
  parseWorkerConfig({ clusters: clusters.map(([name, api]) => ({ name, server: api.url, identity: 'bearer' })) });

async function impersonationConfig(clusters: Array<[string, FakeApiserver]>): Promise<WorkerConfig> {
  return parseWorkerConfig({
    clusters: clusters.map(([name, api]) => ({ name, server: api.url, identity: 'impersonation', serviceAccountTokenFile: saFile })),
    assertion: { issuer, audience, publicKey: await exportSPKI(keys.publicKey) },
  });
}

const sign = (claims: { sub?: string; groups?: string[]; cluster?: string }) =>
  signIdentityAssertion({ sub: claims.sub ?? 'oidc:alice', groups: claims.groups ?? ['oidc:k8s-admins'], ...(claims.cluster ? { cluster: claims.cluster } : {}) }, keys.privateKey, { issuer, audience });

/** POSTs tools/list with these headers; returns the status and the challenge. */
async function post(url: string, headers: Record<string, string>): Promise<{ status: number; challenge: string | null; body: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
  });
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.text() };
}

/** An SDK client whose every HTTP request gets fresh headers (a fresh assertion, as the gateway sends). */
async function client(url: string, headers: () => Promise<Record<string, string>>): Promise<Client> {
  const c = new Client({ name: 't', version: '0' });
  const fetchWith: typeof fetch = async (input, init) => {
    const h = new Headers(init?.headers);
    for (const [k, v] of Object.entries(await headers())) h.set(k, v);
    return fetch(input, { ...init, headers: h });
  };
  await c.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: fetchWith }));
  return c;
}

const count = (api: FakeApiserver) => api.requests.length;
const textOf = (r: unknown) => ((r as CallToolResult).content ?? []).map((c) => (c.type === 'text' ? c.text : '')).join('\n');

describe('cluster pinning (bearer clusters)', () => {
  it('refuses a request without x-kmg-cluster when the worker serves several clusters, before any apiserver sees the token', async () => {
    const w = await startWorker(bearerConfig([['a', a], ['b', b]]));
    const before = [count(a), count(b)];
    const res = await post(w.url, { authorization: 'Bearer tok' });
    expect(res.status).toBe(400);
    expect(res.body).toContain('send x-kmg-cluster');
    expect([count(a), count(b)]).toEqual(before);
    await w.close();
  });

  it('runs the call on the header\'s cluster, checking the token there, not on the default', async () => {
    const w = await startWorker(bearerConfig([['a', a], ['b', b]]));
    const before = count(a);
    const c = await client(w.url, async () => ({ authorization: 'Bearer tok-b', 'x-kmg-cluster': 'b' }));
    const res = await c.callTool({ name: 'whoami', arguments: {} });
    expect(res.structuredContent).toMatchObject({ username: 'bearer-user-on-b' });
    expect(count(a)).toBe(before);
    await c.close();
    await w.close();
  });

  it('refuses a tools/call whose arguments.cluster names another cluster, running nothing there', async () => {
    const w = await startWorker(bearerConfig([['a', a], ['b', b]]));
    const c = await client(w.url, async () => ({ authorization: 'Bearer tok-b2', 'x-kmg-cluster': 'b' }));
    const before = count(a);
    const res = await c.callTool({ name: 'whoami', arguments: { cluster: 'a' } });
    expect(res.isError).toBe(true);
    expect(textOf(res)).toMatch(/^this request is for cluster b, but arguments.cluster names "a": nothing was run/);
    // Also for a tool whose schema has no cluster argument.
    const listed = await c.callTool({ name: 'clusters_list', arguments: { cluster: 'a' } });
    expect(listed.isError).toBe(true);
    expect(count(a)).toBe(before);
    await c.close();
    await w.close();
  });

  it('shows tools/list for the pinned cluster only', async () => {
    const config = parseWorkerConfig({
      clusters: [
        { name: 'a', server: a.url, identity: 'bearer' },
        { name: 'b', server: b.url, identity: 'bearer', policy: { readOnly: true } },
      ],
    });
    const w = await startWorker(config);
    const names = async (cluster: string) => {
      const c = await client(w.url, async () => ({ authorization: `Bearer list-${cluster}`, 'x-kmg-cluster': cluster }));
      const tools = (await c.listTools()).tools.map((t) => t.name);
      await c.close();
      return tools;
    };
    expect(await names('a')).toContain('pods_delete');
    expect(await names('b')).not.toContain('pods_delete');
    await w.close();
  });

  it('refuses a header naming an unknown cluster, several clusters, or none', async () => {
    const w = await startWorker(bearerConfig([['a', a], ['b', b]]));
    for (const value of ['c', 'a, b', ' ']) {
      const res = await post(w.url, { authorization: 'Bearer tok', 'x-kmg-cluster': value });
      expect(res.status, JSON.stringify(value)).toBe(400);
    }
    await w.close();
  });

  it('needs no header on a one-cluster worker, and still refuses arguments naming another cluster', async () => {
    const w = await startWorker(bearerConfig([['a', a]]));
    const c = await client(w.url, async () => ({ authorization: 'Bearer tok-single' }));
    expect((await c.callTool({ name: 'whoami', arguments: {} })).structuredContent).toMatchObject({ username: 'bearer-user-on-a' });
    const other = await c.callTool({ name: 'whoami', arguments: { cluster: 'b' } });
    expect(other.isError).toBe(true);
    expect(textOf(other)).toContain('this request is for cluster a');
    await c.close();
    expect((await post(w.url, { authorization: 'Bearer tok-single', 'x-kmg-cluster': 'b' })).status).toBe(400);
    await w.close();
  });
});

describe('cluster pinning (impersonation clusters)', () => {
  it('refuses an assertion without a cluster claim with 401', async () => {
    const w = await startWorker(await impersonationConfig([['a', a]]));
    const before = count(a);
    const res = await post(w.url, { authorization: `Bearer ${await sign({})}` });
    expect(res.status).toBe(401);
    expect(res.challenge).toContain('it names no cluster');
    expect(count(a)).toBe(before);
    await w.close();
  });

  it('refuses an assertion signed for another cluster than the header names, before impersonating anyone', async () => {
    const w = await startWorker(await impersonationConfig([['a', a], ['b', b]]));
    const before = [count(a), count(b)];
    const res = await post(w.url, { authorization: `Bearer ${await sign({ cluster: 'a' })}`, 'x-kmg-cluster': 'b' });
    expect(res.status).toBe(401);
    expect(res.challenge).toContain('it was signed for cluster a, not b');
    expect([count(a), count(b)]).toEqual(before);
    await w.close();
  });

  it('refuses an assertion for another cluster on a one-cluster worker', async () => {
    const w = await startWorker(await impersonationConfig([['a', a]]));
    expect((await post(w.url, { authorization: `Bearer ${await sign({ cluster: 'b' })}` })).status).toBe(401);
    await w.close();
  });

  it('acts on the asserted cluster when claim and header agree (and on the claim alone without a header)', async () => {
    const w = await startWorker(await impersonationConfig([['a', a], ['b', b]]));
    const before = count(a);
    const withHeader = await client(w.url, async () => ({ authorization: `Bearer ${await sign({ cluster: 'b' })}`, 'x-kmg-cluster': 'b' }));
    expect((await withHeader.callTool({ name: 'whoami', arguments: {} })).structuredContent).toMatchObject({ username: 'oidc:alice' });
    const refused = await withHeader.callTool({ name: 'whoami', arguments: { cluster: 'a' } });
    expect(refused.isError).toBe(true);
    await withHeader.close();
    const claimOnly = await client(w.url, async () => ({ authorization: `Bearer ${await sign({ cluster: 'b' })}` }));
    expect((await claimOnly.callTool({ name: 'whoami', arguments: {} })).isError).toBeFalsy();
    await claimOnly.close();
    expect(count(a)).toBe(before);
    expect(b.requests.at(-1)!.headers['impersonate-user']).toBe('oidc:alice');
    await w.close();
  });
});

describe('impersonated names', () => {
  it.each([
    ['the user system:admin', { sub: 'system:admin' }],
    ['a system:serviceaccount user', { sub: 'system:serviceaccount:kube-system:default' }],
    ['the group system:masters', { groups: ['oidc:devs', 'system:masters'] }],
    ['the group System:Masters in another case', { groups: ['System:Masters'] }],
    ['the group system:authenticated (the apiserver adds it itself)', { groups: ['system:authenticated'] }],
  ])('refuses %s with 401 and impersonates nobody', async (_what, claims) => {
    const w = await startWorker(await impersonationConfig([['a', a]]));
    const before = count(a);
    const res = await post(w.url, { authorization: `Bearer ${await sign({ ...claims, cluster: 'a' })}` });
    expect(res.status).toBe(401);
    expect(res.challenge).toContain('system: users and groups are never impersonated');
    expect(count(a)).toBe(before);
    await w.close();
  });
});

describe('assertion replay', () => {
  it('accepts an assertion once and refuses it the second time', async () => {
    const w = await startWorker(await impersonationConfig([['a', a]]));
    const assertion = await sign({ cluster: 'a' });
    expect((await post(w.url, { authorization: `Bearer ${assertion}` })).status).toBe(200);
    const replay = await post(w.url, { authorization: `Bearer ${assertion}` });
    expect(replay.status).toBe(401);
    expect(replay.challenge).toContain('already used');
    expect(replay.body).not.toContain('tools');
    await w.close();
  });

  it('refuses an assertion without jti', async () => {
    const w = await startWorker(await impersonationConfig([['a', a]]));
    const noJti = await new SignJWT({ groups: [], cluster: 'a' })
      .setProtectedHeader({ alg: 'ES256', typ: ASSERTION_TYPE })
      .setSubject('oidc:alice').setIssuer(issuer).setAudience(audience)
      .setIssuedAt().setExpirationTime('60s')
      .sign(keys.privateKey);
    const res = await post(w.url, { authorization: `Bearer ${noJti}` });
    expect(res.status).toBe(401);
    expect(res.challenge).toContain('has no jti');
    await w.close();
  });

  it('does not let a forged assertion burn a real jti', async () => {
    const w = await startWorker(await impersonationConfig([['a', a]]));
    const jti = 'shared-jti-1';
    const signWith = (key: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']) =>
      new SignJWT({ groups: [], cluster: 'a' }).setProtectedHeader({ alg: 'ES256', typ: ASSERTION_TYPE }).setSubject('oidc:alice')
        .setIssuer(issuer).setAudience(audience).setIssuedAt().setExpirationTime('60s').setJti(jti).sign(key);
    const other = await generateKeyPair('ES256');
    expect((await post(w.url, { authorization: `Bearer ${await signWith(other.privateKey)}` })).status).toBe(401);
    expect((await post(w.url, { authorization: `Bearer ${await signWith(keys.privateKey)}` })).status).toBe(200);
    await w.close();
  });
});

describe('ReplayCache', () => {
  it('forgets a jti once its assertion has expired, and holds its size cap', () => {
    let now = 1_000_000;
    const cache = new ReplayCache(3, () => now);
    expect(cache.firstUse('j1', now / 1000 + 60)).toBe(true);
    expect(cache.firstUse('j1', now / 1000 + 60)).toBe(false);
    now += 66_000;
    expect(cache.firstUse('j1', now / 1000 + 60)).toBe(true);
    for (const j of ['j2', 'j3', 'j4', 'j5']) cache.firstUse(j, now / 1000 + 60);
    expect(cache.size).toBe(3);
  });
});
