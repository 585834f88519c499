import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '@kmg/shared/logger';
import { configSchema, type GatewayConfig } from '../config/schema.js';
import { sitesFor } from '../http/sites.js';
import { MemoryKvStore } from '../store/memory.js';
import { InvalidTokenError, type AccessTokenVerifier, type Principal } from '../auth/principal.js';
import { TokenExchanger } from '../exchange/exchanger.js';
import { MemoryAuditSink } from '../policy/audit.js';
import { mcpRouter } from './router.js';
import { createMcpRuntime, type McpDeps } from './runtime.js';

const logger = createLogger('test', { level: 'silent' });

interface Seen {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A stateless stand-in worker: answers initialize, tools/list and tools/call, records what it received. */
function fakeWorker(): { server: Server; seen: Seen[]; url: () => string } {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    if (req.url === '/healthz') return void res.end('ok');
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ headers: req.headers, body });
      if (req.method !== 'POST') return void res.writeHead(405).end();
      const msg = JSON.parse(body) as { id: number; method: string; params?: { name?: string } };
      const reply = (result: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'worker-should-not-leak' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
      };
      if (msg.method === 'initialize') return reply({ protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'w', version: '1' } });
      if (msg.method === 'tools/list') {
        return reply({
          tools: [
            { name: 'pods_list', inputSchema: { type: 'object' }, annotations: { readOnlyHint: true } },
            { name: 'pods_delete', inputSchema: { type: 'object' }, annotations: { readOnlyHint: false, destructiveHint: true } },
          ],
        });
      }
      if (msg.method === 'prompts/list') return reply({ prompts: [{ name: 'diagnose_workload', arguments: [{ name: 'name', description: 'Name of the workload.', required: true }] }] });
      if (msg.method === 'prompts/get') return reply({ messages: [{ role: 'user', content: { type: 'text', text: `1. workload_diagnose for ${msg.params?.name}` } }] });
      if (msg.method === 'tools/call') {
        if (msg.params?.name === 'slow_json') {
          setTimeout(() => reply({ content: [{ type: 'text', text: 'done after a while' }] }), 700);
          return;
        }
        if (msg.params?.name === 'slow_stream') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('event: message\n');
          setTimeout(() => res.end(`data: ${JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { content: [] } })}\n\n`), 400);
          return;
        }
        return reply({ content: [{ type: 'text', text: `ran ${msg.params?.name}` }] });
      }
      reply({});
    });
  });
  return { server, seen, url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const principals: Record<string, Principal> = {
  'alice-read': { org: 'acme', sub: 'u-alice', username: 'alice', groups: [], clientId: 'c1', scopes: ['mcp:tools:read'], expiresAt: 9e9, mode: 'gateway' },
  'alice-rw': { org: 'acme', sub: 'u-alice', username: 'alice', groups: [], clientId: 'c1', scopes: ['mcp:tools:read', 'mcp:tools:write'], expiresAt: 9e9, mode: 'gateway' },
  'bob-rw': { org: 'acme', sub: 'u-bob', username: 'bob', groups: [], clientId: 'c1', scopes: ['mcp:tools:read', 'mcp:tools:write'], expiresAt: 9e9, mode: 'gateway' },
};

const verifier: AccessTokenVerifier = {
  async verify(_org, _resource, token) {
    if (token === 'expired') throw new InvalidTokenError('expired', 'token expired');
    const p = principals[token];
    if (!p) throw new InvalidTokenError('invalid', 'unknown token');
    return p;
  },
};

/**
 * A worker that passes its health check but drops the MCP requests `drops` picks right after reading them, as a
 * crashing process does; it lists pods_list to the others.
 */
function droppingWorker(drops: (method: string) => boolean): { server: Server; received: string[]; url: () => string } {
  const received: string[] = [];
  const server = createServer((req, res) => {
    if (req.url === '/healthz') return void res.end('ok');
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(body);
      const msg = JSON.parse(body) as { id: string; method: string };
      if (drops(msg.method)) return void req.socket.destroy();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { tools: [{ name: 'pods_list', inputSchema: { type: 'object' }, annotations: { readOnlyHint: true } }] } }));
    });
  });
  return { server, received, url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('MCP path through the gateway', () => {
  const w1 = fakeWorker();
  const dropping = droppingWorker((m) => m === 'tools/call');
  const deaf = droppingWorker(() => true);
  const dead = createServer();
  let app: express.Express;
  let config: GatewayConfig;
  let exchanges = 0;
  const audit = new MemoryAuditSink();
  let close: () => Promise<void>;

  beforeAll(async () => {
    await new Promise<void>((r) => w1.server.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => dropping.server.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => deaf.server.listen(0, '127.0.0.1', r));
    // A port nobody listens on: connect refused, so requests must go to the live worker.
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
    await new Promise<void>((r) => dead.close(() => r()));
    config = configSchema.parse({
      publicUrl: 'https://gw.example.test',
      mcp: { keepAliveMs: 200 },
      orgs: [
        {
          name: 'acme',
          exchange: { tokenEndpoint: 'https://kc.example.test/realms/mcp/protocol/openid-connect/token', clientId: 'mcp-gateway', clientSecret: 's3cret' },
          clusters: [
            { name: 'dev', workers: [deadUrl, w1.url()], healthCheck: { intervalMs: 60_000 } },
            { name: 'prod', workers: [w1.url()], healthCheck: { intervalMs: 60_000 } },
            { name: 'flaky', workers: [dropping.url(), w1.url()], healthCheck: { intervalMs: 60_000 } },
            { name: 'deaf', workers: [deaf.url(), w1.url()], healthCheck: { intervalMs: 60_000 } },
          ],
          allowedOrigins: ['https://inspector.example.test'],
        },
        {
          name: 'ro',
          exchange: { tokenEndpoint: 'https://kc.example.test/realms/mcp/protocol/openid-connect/token', clientId: 'mcp-gateway', clientSecret: 's3cret' },
          clusters: [{ name: 'dev', workers: [w1.url()] }],
          policy: { readOnly: true },
        },
      ],
    });
    const kv = new MemoryKvStore();
    const exchanger = new TokenExchanger({
      kv,
      sealer: { seal: (s) => s, open: (s) => s },
      logger,
      strategyFor: () => ({
        name: 'fake',
        exchange: async (req) => {
          exchanges++;
          return { accessToken: `exchanged-for-${req.audience}-${exchanges}`, expiresAt: Math.floor(Date.now() / 1000) + 300 };
        },
      }),
    });
    const deps: McpDeps = { config, store: kv, logger, verifier, upstream: { subjectToken: async (p) => `keycloak-token-of-${p.sub}` }, now: Date.now };
    const runtime = createMcpRuntime(deps, { exchanger, audit });
    const router = mcpRouter(runtime);
    close = runtime.close;
    app = express();
    for (const site of sitesFor(config)) {
      app.use(`${site.base}/mcp`, (_req, res, next) => ((res.locals.site = site), next()), router);
    }
  });

  afterAll(async () => {
    await close();
    w1.server.close();
    dropping.server.close();
    deaf.server.close();
  });

  beforeEach(() => {
    w1.seen.length = 0;
  });

  const post = (token: string | undefined, body: unknown, path = '/orgs/acme/mcp') => {
    const r = request(app).post(path).set('accept', 'application/json, text/event-stream').set('content-type', 'application/json');
    if (token) r.set('authorization', `Bearer ${token}`);
    return r.send(JSON.stringify(body));
  };

  describe('authentication', () => {
    it('answers a request without a token with 401 and resource metadata', async () => {
      const res = await post(undefined, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toContain('resource_metadata="https://gw.example.test/.well-known/oauth-protected-resource/orgs/acme/mcp"');
      expect(w1.seen).toHaveLength(0);
    });

    it('answers an expired token with 401 invalid_token, never 200', async () => {
      const res = await post('expired', { jsonrpc: '2.0', id: 1, method: 'tools/list' });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    });

    it('refuses two Authorization headers with 401 invalid_token, forwarding nothing (Node would keep the first)', async () => {
      const res = await request(app)
        .post('/orgs/acme/mcp')
        .set('accept', 'application/json, text/event-stream')
        .set('content-type', 'application/json')
        // superagent sends an array value as repeated header lines; its types allow that only for Cookie.
        .set({ authorization: ['Bearer alice-read', 'Bearer bob-rw'] } as unknown as Record<string, string>)
        .send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
      expect(res.headers['www-authenticate']).toContain('more than one Authorization header');
      expect(w1.seen).toHaveLength(0);
    });

    it('refuses a write tool without mcp:tools:write with 403 insufficient_scope naming the scope', async () => {
      await post('alice-read', { jsonrpc: '2.0', id: 1, method: 'tools/list' });
      const res = await post('alice-read', { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'pods_delete', arguments: { namespace: 'x', name: 'y' } } });
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
      expect(res.headers['www-authenticate']).toContain('scope="mcp:tools:write"');
      expect(w1.seen.filter((s) => s.body.includes('pods_delete'))).toHaveLength(0);
    });

    it('refuses a browser Origin that is not configured', async () => {
      const res = await post('alice-rw', { jsonrpc: '2.0', id: 1, method: 'tools/list' }).set('origin', 'https://evil.example.test');
      expect(res.status).toBe(403);
      const ok = await post('alice-rw', { jsonrpc: '2.0', id: 1, method: 'tools/list' }).set('origin', 'https://inspector.example.test');
      expect(ok.status).toBe(200);
      expect(ok.headers['access-control-allow-origin']).toBe('https://inspector.example.test');
    });
  });

  describe('forwarding', () => {
    it('sends the worker only the exchanged token, a request id and a traceparent', async () => {
      const res = await post('alice-rw', { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'pods_list', arguments: {} } }).set('cookie', 'sid=1');
      expect(res.status).toBe(200);
      const seen = w1.seen.find((s) => s.body.includes('"id":7'))!;
      expect(seen.headers.authorization).toMatch(/^Bearer exchanged-for-kubernetes-/);
      expect(seen.headers.cookie).toBeUndefined();
      expect(seen.headers['x-request-id']).toBeTruthy();
      expect(seen.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(JSON.stringify(seen.headers)).not.toContain('alice-rw');
    });

    it('reuses one exchange for many calls by the same user', async () => {
      const before = exchanges;
      await Promise.all(Array.from({ length: 20 }, (_, i) => post('bob-rw', { jsonrpc: '2.0', id: 100 + i, method: 'tools/call', params: { name: 'pods_list', arguments: {} } })));
      expect(exchanges - before).toBe(1);
    });

    it('streams an SSE tool result through', async () => {
      await post('alice-rw', { jsonrpc: '2.0', id: 1, method: 'tools/list' });
      const res = await post('alice-rw', { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'slow_stream', arguments: {} } });
      expect(res.headers['content-type']).toContain('text/event-stream');
      expect(res.text).toContain('"id":9');
    });

    it('turns a quiet JSON answer into an SSE stream with keep-alive comments, so nothing idle-cuts it', async () => {
      await post('alice-rw', { jsonrpc: '2.0', id: 1, method: 'tools/list' });
      const res = await post('alice-rw', { jsonrpc: '2.0', id: 12, method: 'tools/call', params: { name: 'slow_json', arguments: {} } });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toContain('text/event-stream');
      expect(res.text).toContain(': keep-alive');
      expect(res.text).toMatch(/event: message\ndata: \{.*"id":12.*done after a while/);
    });

    it('passes a quick JSON answer through as JSON', async () => {
      const res = await post('alice-rw', { jsonrpc: '2.0', id: 13, method: 'tools/call', params: { name: 'pods_list', arguments: {} } });
      expect(res.headers['content-type']).toContain('application/json');
      expect((res.body as { id: number }).id).toBe(13);
    });

    it('audits each tool call with the namespace but no argument values', async () => {
      audit.records.length = 0;
      await post('alice-rw', { jsonrpc: '2.0', id: 11, method: 'tools/call', params: { name: 'pods_list', arguments: { namespace: 'team-a', labelSelector: 'secret=hunter2' } } });
      await new Promise((r) => setTimeout(r, 20));
      const rec = audit.records.find((r) => r.tool === 'pods_list')!;
      expect(rec).toMatchObject({ org: 'acme', user: 'alice', client: 'c1', cluster: 'dev', namespace: 'team-a', outcome: 'ok', status: 200 });
      expect(JSON.stringify(rec)).not.toContain('hunter2');
    });
  });

  describe('the gateway decides on the message the worker executes', () => {
    const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
    const deleteCall = { jsonrpc: '2.0', id: 41, method: 'tools/call', params: { name: 'pods_delete', arguments: { namespace: 'team-a', name: 'web' } } };
    // Exact bytes on the wire (supertest would JSON-encode a Buffer).
    let server: Server;
    beforeAll(async () => {
      server = createServer(app);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    });
    afterAll(() => void server.close());
    const raw = async (token: string, body: Buffer, headers: Record<string, string> = {}) => {
      const r = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/orgs/acme/mcp`, {
        method: 'POST',
        headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
        body,
      });
      const text = await r.text();
      return { status: r.status, headers: Object.fromEntries(r.headers), body: (text ? JSON.parse(text) : undefined) as { error: { code: number } } & Record<string, unknown> };
    };

    it('refuses a BOM-prefixed pods_delete from a read-only token with 403, and audits the refusal', async () => {
      await post('alice-read', { jsonrpc: '2.0', id: 1, method: 'tools/list' });
      audit.records.length = 0;
      const res = await raw('alice-read', Buffer.concat([BOM, Buffer.from(JSON.stringify(deleteCall))]));
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toContain('scope="mcp:tools:write"');
      expect(w1.seen.filter((s) => s.body.includes('pods_delete'))).toHaveLength(0);
      expect(audit.records).toEqual([expect.objectContaining({ tool: 'pods_delete', user: 'alice', outcome: 'insufficient_scope', status: 403 })]);
    });

    it('forwards an allowed BOM-prefixed call as the re-serialised message, without the BOM', async () => {
      const res = await raw('alice-rw', Buffer.concat([BOM, Buffer.from(JSON.stringify({ ...deleteCall, id: 42 }))]));
      expect(res.status).toBe(200);
      const seen = w1.seen.find((s) => s.body.includes('"id":42'))!;
      expect(seen.body).toBe(JSON.stringify({ ...deleteCall, id: 42 }));
    });

    it('refuses what it cannot parse with 400 and a JSON-RPC parse error, forwarding nothing', async () => {
      audit.records.length = 0;
      const res = await raw('alice-rw', Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"pods_delete"'));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
      expect(w1.seen).toHaveLength(0);
      expect(audit.records).toEqual([expect.objectContaining({ user: 'alice', outcome: 'rejected', status: 400 })]);
    });

    it('refuses duplicate keys and a charset other than utf-8', async () => {
      const dup = await raw('alice-read', Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"pods_list","name":"pods_delete"}}'));
      expect(dup.status).toBe(400);
      expect(dup.body.error.code).toBe(-32600);
      const latin1 = await raw('alice-rw', Buffer.from(JSON.stringify(deleteCall)), { 'content-type': 'application/json; charset=iso-8859-1' });
      expect(latin1.status).toBe(415);
      expect(w1.seen).toHaveLength(0);
    });

    it('refuses an Mcp-Method header that disagrees with the body', async () => {
      const res = await raw('alice-read', Buffer.from(JSON.stringify(deleteCall)), { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
      expect(res.status).toBe(400);
      expect(w1.seen).toHaveLength(0);
    });

    it('decodes a gzip body and forwards it decoded, without Content-Encoding', async () => {
      const { gzipSync } = await import('node:zlib');
      const res = await raw('alice-rw', gzipSync(JSON.stringify({ ...deleteCall, id: 43 })), { 'content-encoding': 'gzip' });
      expect(res.status).toBe(200);
      const seen = w1.seen.find((s) => s.body.includes('"id":43'))!;
      expect(seen.headers['content-encoding']).toBeUndefined();
      expect(JSON.parse(seen.body)).toMatchObject({ id: 43 });
      const unknown = await raw('alice-rw', Buffer.from(JSON.stringify(deleteCall)), { 'content-encoding': 'compress' });
      expect(unknown.status).toBe(415);
      expect(unknown.body.error).toBeDefined();
    });

    it('forwards only allow-listed headers and its own cluster pin', async () => {
      const res = await raw('alice-rw', Buffer.from(JSON.stringify({ ...deleteCall, id: 44 })), {
        'impersonate-user': 'system:admin',
        'impersonate-group': 'system:masters',
        'x-remote-user': 'admin',
        'x-kmg-cluster': 'prod',
        'x-forwarded-for': '10.0.0.1',
        'mcp-protocol-version': '2025-06-18',
        'x-custom': 'y',
      });
      expect(res.status).toBe(200);
      const seen = w1.seen.find((s) => s.body.includes('"id":44'))!;
      const names = Object.keys(seen.headers).sort();
      expect(names.filter((h) => !['host', 'connection', 'content-length', 'content-type', 'accept', 'authorization', 'x-request-id', 'traceparent', 'x-kmg-cluster', 'mcp-protocol-version'].includes(h))).toEqual([]);
      expect(seen.headers['x-kmg-cluster']).toBe('dev');
    });
  });

  describe('the cluster is pinned per request', () => {
    const call = (token: string, id: number, args: Record<string, unknown>, path?: string) => post(token, { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'pods_list', arguments: args } }, path);

    it('routes a call naming another org cluster there, and tells the worker which one', async () => {
      const res = await call('alice-rw', 51, { cluster: 'prod' });
      expect(res.status).toBe(200);
      expect(w1.seen.find((s) => s.body.includes('"id":51'))!.headers['x-kmg-cluster']).toBe('prod');
      await call('alice-rw', 52, {});
      expect(w1.seen.find((s) => s.body.includes('"id":52'))!.headers['x-kmg-cluster']).toBe('dev');
      await call('alice-rw', 53, {}, '/orgs/acme/mcp/clusters/prod');
      expect(w1.seen.find((s) => s.body.includes('"id":53'))!.headers['x-kmg-cluster']).toBe('prod');
    });

    it('routes around a worker that dropped a tools/call at once: a clear error for that call, never repeated on another worker, and the next calls to the live one', async () => {
      // The health check (every 60 s here) still calls the dropping worker healthy: only the dropped call can tell.
      const answers = [];
      for (let id = 60; id < 64; id++) answers.push(await call('alice-rw', id, { cluster: 'flaky' }));
      const calls = dropping.received.map((b) => JSON.parse(b) as { id: number; method: string }).filter((m) => m.method === 'tools/call');
      expect(calls).toHaveLength(1);
      const droppedId = calls[0]!.id;
      const dropped = answers[droppedId - 60]!;
      expect(dropped.status).toBe(502);
      expect(dropped.body).toMatchObject({ id: droppedId, error: { code: -32603, message: expect.stringContaining('not retried on another worker because it may have run') } });
      expect(w1.seen.filter((s) => s.body.includes(`"id":${droppedId}`))).toHaveLength(0);
      for (const a of answers.filter((x) => x !== dropped)) expect(a.body).toMatchObject({ result: { content: [{ text: 'ran pods_list' }] } });
    });

    it('asks the next worker for the tool catalog when one drops the request, and routes around it', async () => {
      for (let id = 64; id < 67; id++) expect((await call('alice-read', id, { cluster: 'deaf' })).body).toMatchObject({ id, result: { content: [{ text: 'ran pods_list' }] } });
      // The read-only token's read call needs the catalog (an unknown tool counts as a write): it came from w1.
      expect(deaf.received).toHaveLength(1);
    });

    it('answers an unknown cluster with a tool error and forwards nothing', async () => {
      audit.records.length = 0;
      const res = await call('alice-rw', 54, { cluster: 'elsewhere' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: 54, result: { isError: true } });
      expect(JSON.stringify(res.body)).toContain('unknown cluster');
      expect(w1.seen).toHaveLength(0);
      expect(audit.records).toEqual([expect.objectContaining({ tool: 'pods_list', cluster: 'elsewhere', outcome: 'rejected' })]);
    });

    it('answers a cluster that is not a string with a tool error naming the argument and the fix, forwarding nothing', async () => {
      audit.records.length = 0;
      const res = await call('alice-rw', 58, { cluster: { name: 'prod' } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: 58, result: { isError: true } });
      expect(res.body.error).toBeUndefined();
      const text = (res.body as { result: { content: Array<{ text: string }> } }).result.content[0]!.text;
      expect(text).toContain('cluster: expected a string, got an object');
      expect(text).toContain('(dev, prod, flaky, deaf)');
      expect(w1.seen).toHaveLength(0);
      expect(audit.records).toEqual([expect.objectContaining({ tool: 'pods_list', outcome: 'rejected' })]);
    });

    it('refuses a call naming a cluster other than the one its URL serves', async () => {
      const res = await call('alice-rw', 55, { cluster: 'dev' }, '/orgs/acme/mcp/clusters/prod');
      expect(res.body).toMatchObject({ id: 55, result: { isError: true } });
      expect(w1.seen).toHaveLength(0);
    });

    it('refuses a batch whose calls address different clusters', async () => {
      const res = await post('alice-rw', [
        { jsonrpc: '2.0', id: 56, method: 'tools/call', params: { name: 'pods_list', arguments: { cluster: 'prod' } } },
        { jsonrpc: '2.0', id: 57, method: 'tools/call', params: { name: 'pods_list', arguments: {} } },
      ]);
      expect(res.status).toBe(400);
      expect(w1.seen).toHaveLength(0);
    });
  });

  describe('policy', () => {
    it('lists only read tools to a token without the write scope', async () => {
      const res = await post('alice-read', { jsonrpc: '2.0', id: 1, method: 'tools/list' });
      const names = (res.body as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name);
      expect(names).toEqual(['pods_list']);
    });

    it('lists no write tools in a read-only org even with the write scope', async () => {
      const res = await post('alice-rw', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, '/orgs/ro/mcp');
      const names = (res.body as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name);
      expect(names).toEqual(['pods_list']);
    });
  });

  describe('methods the gateway decides on', () => {
    it('forwards prompts/list and prompts/get for an authenticated user, with only the read scope', async () => {
      const list = await post('alice-read', { jsonrpc: '2.0', id: 61, method: 'prompts/list' });
      expect(list.status).toBe(200);
      expect(list.body).toMatchObject({ id: 61, result: { prompts: [{ name: 'diagnose_workload' }] } });
      const get = await post('alice-read', { jsonrpc: '2.0', id: 62, method: 'prompts/get', params: { name: 'diagnose_workload', arguments: { name: 'web' } } })
        .set('mcp-protocol-version', '2026-07-28')
        .set('mcp-method', 'prompts/get')
        .set('mcp-name', 'diagnose_workload');
      expect(get.status).toBe(200);
      expect(get.body).toMatchObject({ id: 62, result: { messages: [{ role: 'user' }] } });
      expect(w1.seen.map((s) => JSON.parse(s.body).method)).toEqual(['prompts/list', 'prompts/get']);
      expect(w1.seen[1]!.headers['mcp-name']).toBe('diagnose_workload');
    });

    it('refuses prompts without a token with 401, forwarding nothing', async () => {
      const res = await post(undefined, { jsonrpc: '2.0', id: 63, method: 'prompts/get', params: { name: 'diagnose_workload' } });
      expect(res.status).toBe(401);
      expect(w1.seen).toHaveLength(0);
    });

    it('refuses a prompts/get whose name it cannot read, and an Mcp-Name that disagrees with it, forwarding nothing', async () => {
      const noName = await post('alice-rw', { jsonrpc: '2.0', id: 64, method: 'prompts/get', params: { name: ['diagnose_workload'] } });
      expect(noName.status).toBe(400);
      expect(noName.body).toMatchObject({ error: { code: -32602 } });
      const other = await post('alice-rw', { jsonrpc: '2.0', id: 65, method: 'prompts/get', params: { name: 'review_rollout' } }).set('mcp-name', 'diagnose_workload');
      expect(other.status).toBe(400);
      expect(w1.seen).toHaveLength(0);
    });

    it('answers a method it does not decide on with -32601 and forwards nothing', async () => {
      const res = await post('alice-rw', { jsonrpc: '2.0', id: 66, method: 'resources/read', params: { uri: 'file:///etc/passwd' } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: 66, error: { code: -32601 } });
      const note = await post('alice-rw', { jsonrpc: '2.0', method: 'notifications/whatever' });
      expect(note.status).toBe(400);
      const batch = await post('alice-rw', [
        { jsonrpc: '2.0', id: 67, method: 'tools/list' },
        { jsonrpc: '2.0', id: 68, method: 'tasks/list' },
      ]);
      expect(batch.status).toBe(400);
      expect(batch.body).toMatchObject({ error: { code: -32601 } });
      expect(w1.seen).toHaveLength(0);
    });
  });

  describe('sessions', () => {
    it('mints a session on initialize, binds it to the user and refuses it to another user', async () => {
      const init = await post('alice-rw', { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
      expect(init.status).toBe(200);
      const sid = init.headers['mcp-session-id'] as string;
      expect(sid).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(sid).not.toBe('worker-should-not-leak');
      const mine = await post('alice-read', { jsonrpc: '2.0', id: 2, method: 'tools/list' }).set('mcp-session-id', sid);
      expect(mine.status).toBe(200);
      expect(w1.seen.at(-1)!.headers['mcp-session-id']).toBeUndefined();
      const theirs = await post('bob-rw', { jsonrpc: '2.0', id: 3, method: 'tools/list' }).set('mcp-session-id', sid);
      expect(theirs.status).toBe(404);
      const del = await request(app).delete('/orgs/acme/mcp').set('authorization', 'Bearer alice-rw').set('mcp-session-id', sid);
      expect(del.status).toBe(204);
      const after = await post('alice-rw', { jsonrpc: '2.0', id: 4, method: 'tools/list' }).set('mcp-session-id', sid);
      expect(after.status).toBe(404);
    });

    it('holds a GET stream for the session owner and ends it when the session is deleted', async () => {
      const init = await post('alice-rw', { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
      const sid = init.headers['mcp-session-id'] as string;
      const stream = request(app).get('/orgs/acme/mcp').set('authorization', 'Bearer alice-rw').set('mcp-session-id', sid).set('accept', 'text/event-stream');
      setTimeout(() => void request(app).delete('/orgs/acme/mcp').set('authorization', 'Bearer alice-rw').set('mcp-session-id', sid).then(() => undefined), 300);
      const res = await stream;
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toContain('text/event-stream');
      const theirs = await request(app).get('/orgs/acme/mcp').set('authorization', 'Bearer bob-rw').set('mcp-session-id', sid);
      expect(theirs.status).toBe(404);
    });

    it('serves a 2026-07-28 request without a session and mints none', async () => {
      const res = await post('alice-rw', { jsonrpc: '2.0', id: 5, method: 'tools/list', params: { _meta: {} } })
        .set('mcp-protocol-version', '2026-07-28')
        .set('mcp-method', 'tools/list');
      expect(res.status).toBe(200);
      expect(res.headers['mcp-session-id']).toBeUndefined();
      expect(w1.seen.at(-1)!.headers['mcp-method']).toBe('tools/list');
      expect(w1.seen.at(-1)!.headers['mcp-protocol-version']).toBe('2026-07-28');
    });

    it('publishes the identity-assertion public key for workers without authentication', async () => {
      const res = await request(app).get('/orgs/acme/mcp/identity/jwks.json');
      expect(res.status).toBe(200);
      const keys = (res.body as { keys: Array<{ kty: string; d?: string }> }).keys;
      expect(keys[0]!.kty).toBe('EC');
      expect(keys[0]!.d).toBeUndefined();
    });

    it('keeps the worker’s 405 for a GET without a session', async () => {
      const res = await request(app).get('/orgs/acme/mcp').set('authorization', 'Bearer alice-rw').set('accept', 'text/event-stream');
      expect(res.status).toBe(405);
    });
  });
});
