// Attacks on the MCP path of in-process gateways (resource-server orgs: Keycloak tokens for alice and bob) in
// front of workers of this suite's own: one serving cluster `stack` behind a tap recording what it receives, and
// one pool serving two clusters, `stack` and `prod`, for cluster confusion: session fixation and hijack, Origin/Host, header smuggling (impersonation headers,
// duplicate Authorization, Transfer-Encoding tricks, Content-Encoding), cluster confusion. Each attack asserts the
// refusal and that nothing leaked (no token or session id in the gateway's log lines, no stack trace).
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { kubeToken, userToken } from '../support/keycloak-tokens.js';
import { startStackWorker, type WorkerProcess } from '../worker/helpers.js';
import { tapWorker, type Tap } from '../gateway-mcp/harness.js';
import { startSecurityGateway, type SecurityGateway } from './harness.js';
import { LeakWatch } from './leaks.js';
import { rawRequest, rpcMessages, type RawResponse } from './send.js';
import { twoClusterWorker } from './workers.js';

let env: StackEnv;
let worker: WorkerProcess;
let twoClusters: WorkerProcess;
let tap: Tap;
/** In front of the two-cluster worker. */
let poolTap: Tap;
let gw: SecurityGateway;
/** Clusters stack and prod of every org, both served by the two-cluster worker. */
let pool: SecurityGateway;
const tokens = { alice: '', bob: '' };
let watch: LeakWatch;
let poolWatch: LeakWatch;
/** Session ids opened by the running attack. */
let sessions: string[] = [];
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'attacker', version: '0' } } });
const call = (name: string, args: Record<string, unknown> = {}) => JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: args } });

beforeAll(async () => {
  env = loadStackEnv();
  worker = await startStackWorker(env);
  twoClusters = await twoClusterWorker(env);
  tap = await tapWorker(worker.url);
  poolTap = await tapWorker(twoClusters.url);
  gw = await startSecurityGateway(env, { workers: [tap.url] });
  pool = await startSecurityGateway(env, { workers: [poolTap.url], prodWorkers: [poolTap.url] });
  tokens.alice = (await userToken(env, 'alice')).access_token;
  tokens.bob = (await userToken(env, 'bob')).access_token;
  watch = new LeakWatch(gw.logs, () => [env.SEED_SECRET_VALUE, env.GATEWAY_CLIENT_SECRET], () => [tokens.alice, tokens.bob, ...sessions]);
  poolWatch = new LeakWatch(pool.logs, () => [env.SEED_SECRET_VALUE, env.GATEWAY_CLIENT_SECRET], () => [tokens.alice, tokens.bob]);
});

beforeEach(() => {
  sessions = [];
  watch?.mark();
  poolWatch?.mark();
});

afterAll(async () => {
  await gw?.close();
  await pool?.close();
  await tap?.close();
  await poolTap?.close();
  await worker?.stop();
  await twoClusters?.stop();
});

async function post(body: string | Buffer, headers: Record<string, string | string[]>, url = gw.mcpUrl('rs')): Promise<RawResponse> {
  const res = await rawRequest(url, { headers: { ...JSON_HEADERS, ...headers }, body });
  watch.saw(res.text);
  return res;
}

async function openSession(token: string, org = 'rs'): Promise<string> {
  const res = await post(INIT, { authorization: `Bearer ${token}` }, gw.mcpUrl(org));
  const sid = res.headers['mcp-session-id'];
  if (res.status !== 200 || typeof sid !== 'string') throw new Error(`initialize: ${res.status} ${res.text}`);
  sessions.push(sid);
  return sid;
}

const nothingLeaked = () => {
  watch.check();
  poolWatch.check();
};
const textOf = (r: RawResponse) => rpcMessages(r).map((m) => JSON.stringify(m.result ?? m.error ?? '')).join('\n');

/** Headers of the MCP requests the worker received while `fn` ran. */
async function seenBy(fn: () => Promise<unknown>, t = tap) {
  const before = t.seen.length;
  await fn();
  return t.seen.slice(before);
}
const seenByPool = (fn: () => Promise<unknown>) => seenBy(fn, poolTap);

describe('session fixation and hijack', () => {
  it("refuses bob's request on alice's Mcp-Session-Id, and alice's session keeps working", async () => {
    const sid = await openSession(tokens.alice);
    const hijack = await post(call('whoami'), { authorization: `Bearer ${tokens.bob}`, 'mcp-session-id': sid });
    expect(hijack.status).toBe(404);
    const own = await post(call('whoami'), { authorization: `Bearer ${tokens.alice}`, 'mcp-session-id': sid });
    expect(own.status).toBe(200);
    expect(textOf(own)).toContain('oidc:alice');
    nothingLeaked();
  });

  it("refuses bob's DELETE of alice's session, and the session survives", async () => {
    const sid = await openSession(tokens.alice);
    const del = await rawRequest(gw.mcpUrl('rs'), { method: 'DELETE', headers: { authorization: `Bearer ${tokens.bob}`, 'mcp-session-id': sid } });
    watch.saw(del.text);
    expect(del.status).toBe(404);
    expect((await post(call('whoami'), { authorization: `Bearer ${tokens.alice}`, 'mcp-session-id': sid })).status).toBe(200);
    nothingLeaked();
  });

  it("refuses bob's GET stream on alice's session", async () => {
    const sid = await openSession(tokens.alice);
    const res = await rawRequest(gw.mcpUrl('rs'), { method: 'GET', headers: { accept: 'text/event-stream', authorization: `Bearer ${tokens.bob}`, 'mcp-session-id': sid }, timeoutMs: 5000 });
    watch.saw(res.text);
    expect(res.status).toBe(404);
    nothingLeaked();
  });

  it('does not adopt a session id the client chose (session fixation)', async () => {
    const chosen = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const init = await post(INIT, { authorization: `Bearer ${tokens.alice}`, 'mcp-session-id': chosen });
    expect(init.headers['mcp-session-id']).not.toBe(chosen);
    const use = await post(call('whoami'), { authorization: `Bearer ${tokens.bob}`, 'mcp-session-id': chosen });
    expect(use.status).toBe(404);
    nothingLeaked();
  });

  it("refuses alice's session id of one org at another org", async () => {
    const sid = await openSession(tokens.alice, 'rs');
    const res = await post(call('whoami'), { authorization: `Bearer ${tokens.alice}`, 'mcp-session-id': sid }, gw.mcpUrl('rsw'));
    expect(res.status).toBe(404);
    nothingLeaked();
  });

  it('answers a malformed session id (path characters, 10 kB) with 4xx, not a crash', async () => {
    for (const sid of ['../../../../etc/passwd', 'x'.repeat(10_000), '*', 'kmg:grant:1']) {
      const res = await post(call('whoami'), { authorization: `Bearer ${tokens.alice}`, 'mcp-session-id': sid });
      expect(res.status, sid.slice(0, 20)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    nothingLeaked();
  });
});

describe('Origin and Host (DNS rebinding)', () => {
  const origins: Array<[string, (base: string) => string]> = [
    ['another site', () => 'https://evil.example'],
    ['the opaque origin "null"', () => 'null'],
    ["the gateway's host on another port", (b) => b.replace(/:\d+$/, ':1')],
    ["the gateway's host over https", (b) => b.replace('http:', 'https:')],
    ['a look-alike suffix', (b) => `${b}.evil.example`],
  ];
  for (const [what, origin] of origins) {
    it(`refuses a browser request with Origin ${what}`, async () => {
      const seen = await seenBy(async () => {
        const res = await post(call('whoami'), { authorization: `Bearer ${tokens.alice}`, origin: origin(gw.base) });
        expect(res.status).toBe(403);
        expect(res.headers['access-control-allow-origin']).toBeUndefined();
      });
      expect(seen).toEqual([]);
      nothingLeaked();
    });
  }

  it('refuses a rebinding request (foreign Host and Origin)', async () => {
    const res = await post(call('whoami'), { authorization: `Bearer ${tokens.alice}`, host: 'evil.example', origin: 'http://evil.example' });
    expect(res.status).toBe(403);
    nothingLeaked();
  });

  it('does not allow a foreign origin in a CORS preflight', async () => {
    const res = await rawRequest(gw.mcpUrl('rs'), { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } });
    watch.saw(res.text);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    nothingLeaked();
  });
});

describe('header smuggling toward the worker and the apiserver', () => {
  const smuggled: Array<[string, Record<string, string>]> = [
    ['Impersonate-User: system:admin', { 'impersonate-user': 'system:admin' }],
    ['Impersonate-Group: system:masters', { 'impersonate-group': 'system:masters' }],
    ['Impersonate-Uid and Impersonate-Extra-scopes', { 'impersonate-uid': '0', 'impersonate-extra-scopes': 'all' }],
    ['X-Remote-User and X-Remote-Group', { 'x-remote-user': 'system:admin', 'x-remote-group': 'system:masters' }],
    ['a client-chosen x-kmg-cluster: prod', { 'x-kmg-cluster': 'prod' }],
    ['Cookie and Proxy-Authorization', { cookie: 'kmg=attacker', 'proxy-authorization': 'Basic YTpi' }],
    ['Forwarded and X-Forwarded-For', { forwarded: 'for=10.0.0.1;host=kube-apiserver', 'x-forwarded-for': '10.0.0.1' }],
  ];
  for (const [what, headers] of smuggled) {
    it(`does not forward ${what}, and alice stays alice`, async () => {
      const seen = await seenBy(async () => {
        const res = await post(call('whoami'), { authorization: `Bearer ${tokens.alice}`, ...headers });
        expect(res.status).toBe(200);
        expect(textOf(res)).toContain('oidc:alice');
        expect(textOf(res)).not.toContain('system:admin');
      });
      expect(seen.length).toBeGreaterThan(0);
      for (const h of seen) for (const [k, v] of Object.entries(headers)) expect(h[k], `${k} reached the worker`).not.toBe(v);
      nothingLeaked();
    });
  }

  it('does not pass Content-Encoding on to the worker after decompressing the body', async () => {
    const seen = await seenBy(async () => {
      const res = await post(gzipSync(Buffer.from(call("whoami"))), { authorization: `Bearer ${tokens.alice}`, 'content-encoding': 'gzip' });
      expect(res.status).toBeLessThan(500);
    });
    for (const h of seen) expect(h['content-encoding']).toBeUndefined();
    nothingLeaked();
  });

  it('refuses two Authorization headers (alice and bob)', async () => {
    const seen = await seenBy(async () => {
      const res = await post(call('whoami'), { authorization: [`Bearer ${tokens.alice}`, `Bearer ${tokens.bob}`] });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    });
    expect(seen).toEqual([]);
    nothingLeaked();
  });

  /** A request written byte by byte: Node's client would never send these framings. */
  async function rawSocket(head: string, body: string): Promise<string> {
    const u = new URL(gw.mcpUrl('rs'));
    return new Promise((resolve, reject) => {
      const sock = net.connect(Number(u.port), u.hostname, () => sock.end(`${head}\r\n\r\n${body}`));
      let out = '';
      sock.on('data', (c: Buffer) => (out += c.toString()));
      sock.on('end', () => resolve(out));
      sock.on('error', reject);
      sock.setTimeout(10_000, () => sock.destroy(new Error('no answer')));
    });
  }

  it('refuses Transfer-Encoding together with a Content-Length (request smuggling)', async () => {
    const u = new URL(gw.mcpUrl('rs'));
    const body = call('whoami');
    const seen = await seenBy(async () => {
      const out = await rawSocket(
        [`POST ${u.pathname} HTTP/1.1`, `Host: ${u.host}`, 'Content-Type: application/json', 'Accept: application/json, text/event-stream', `Authorization: Bearer ${tokens.alice}`, 'Connection: close', 'Content-Length: 4', 'Transfer-Encoding: chunked'].join('\r\n'),
        `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
      );
      watch.saw(out);
      expect(out).toMatch(/^HTTP\/1\.1 4\d\d/);
    });
    expect(seen).toEqual([]);
    nothingLeaked();
  });

  it('refuses an obfuscated Transfer-Encoding ("chunked, identity")', async () => {
    const u = new URL(gw.mcpUrl('rs'));
    const body = call('whoami');
    const seen = await seenBy(async () => {
      const out = await rawSocket(
        [`POST ${u.pathname} HTTP/1.1`, `Host: ${u.host}`, 'Content-Type: application/json', 'Accept: application/json, text/event-stream', `Authorization: Bearer ${tokens.alice}`, 'Connection: close', 'Transfer-Encoding: chunked, identity'].join('\r\n'),
        `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
      );
      watch.saw(out);
      expect(out).toMatch(/^HTTP\/1\.1 [45]\d\d/);
      expect(out).not.toMatch(/^HTTP\/1\.1 5\d\d/);
    });
    expect(seen).toEqual([]);
    nothingLeaked();
  });
});

describe('cluster confusion (one worker pool serving clusters stack and prod)', () => {
  const refusedCall = (res: RawResponse) => res.status >= 400 || rpcMessages(res).every((m) => m.error !== undefined || (m.result as { isError?: boolean }).isError === true);

  it('runs a call naming prod at the org URL on prod, and pins prod for the worker (gateway and worker agree)', async () => {
    const seen = await seenByPool(async () => {
      const res = await post(call('pods_list', { namespace: 'team-a', cluster: 'prod' }), { authorization: `Bearer ${tokens.alice}` }, pool.mcpUrl('rs'));
      expect(res.status, res.text.slice(0, 300)).toBe(200);
      expect(refusedCall(res), res.text.slice(0, 300)).toBe(false);
    });
    const calls = seen.filter((h) => h['x-kmg-cluster'] !== undefined);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.at(-1)!['x-kmg-cluster']).toBe('prod');
    nothingLeaked();
  });

  it('refuses arguments.cluster naming stack on the MCP URL of cluster prod', async () => {
    const res = await post(call('pods_list', { namespace: 'team-a', cluster: 'stack' }), { authorization: `Bearer ${tokens.alice}` }, `${pool.mcpUrl('rs')}/clusters/prod`);
    expect(refusedCall(res), res.text.slice(0, 300)).toBe(true);
    expect(textOf(res)).not.toContain('web-7d9f8b6c5d');
    nothingLeaked();
  });

  it('refuses a destructive call naming prod on the MCP URL of cluster stack (dry run)', async () => {
    const res = await post(call('pods_delete', { namespace: 'team-a', name: 'web-7d9f8b6c5d-x2k4p', cluster: 'prod', dryRun: true }), { authorization: `Bearer ${tokens.alice}` }, `${pool.mcpUrl('rsw')}/clusters/stack`);
    expect(refusedCall(res), res.text.slice(0, 300)).toBe(true);
    expect(textOf(res)).not.toContain('would be deleted');
    nothingLeaked();
  });

  it('refuses arguments.cluster naming a cluster outside the organisation, before any worker sees it', async () => {
    const seen = await seenByPool(async () => {
      const res = await post(call('pods_list', { namespace: 'team-a', cluster: 'kube-admin' }), { authorization: `Bearer ${tokens.alice}` }, pool.mcpUrl('rs'));
      expect(refusedCall(res), res.text.slice(0, 300)).toBe(true);
    });
    expect(seen.filter((h) => h['x-kmg-cluster'] === 'kube-admin')).toEqual([]);
    nothingLeaked();
  });

  it('answers an arguments.cluster that is not a string with a tool error naming it, before any worker sees the call', async () => {
    const seen = await seenByPool(async () => {
      const res = await post(call('pods_list', { namespace: 'team-a', cluster: { name: 'prod' } }), { authorization: `Bearer ${tokens.alice}` }, pool.mcpUrl('rs'));
      expect(res.status).toBe(200);
      expect(rpcMessages(res)[0]!.error).toBeUndefined();
      expect(refusedCall(res), res.text.slice(0, 300)).toBe(true);
      expect(textOf(res)).toContain('cluster: expected a string, got an object');
    });
    expect(seen.filter((h) => h['x-kmg-cluster'] !== undefined)).toEqual([]);
    nothingLeaked();
  });

  it('the worker refuses a call whose arguments.cluster disagrees with the pinned x-kmg-cluster', async () => {
    const kube = await kubeToken(env, 'alice');
    const res = await rawRequest(twoClusters.url, { headers: { ...JSON_HEADERS, authorization: `Bearer ${kube}`, 'x-kmg-cluster': 'stack' }, body: call('pods_list', { namespace: 'team-a', cluster: 'prod' }) });
    expect(refusedCall(res), res.text.slice(0, 300)).toBe(true);
    expect(res.text).not.toContain('web-7d9f8b6c5d');
    expect(res.text).not.toContain(kube);
  });

  it('the worker refuses a request that names no cluster when it serves several', async () => {
    const kube = await kubeToken(env, 'alice');
    const res = await rawRequest(twoClusters.url, { headers: { ...JSON_HEADERS, authorization: `Bearer ${kube}` }, body: call('pods_list', { namespace: 'team-a' }) });
    expect(res.status).toBe(400);
    expect(res.text).not.toContain('web-7d9f8b6c5d');
  });

  it('does not reach another cluster through an encoded path (/clusters/stack%2f..%2fprod)', async () => {
    const res = await post(call('whoami'), { authorization: `Bearer ${tokens.alice}` }, `${pool.mcpUrl('rs')}/clusters/stack%2f..%2fprod`);
    expect(res.status).toBe(404);
    nothingLeaked();
  });
});
