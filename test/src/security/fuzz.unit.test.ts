// Property-based fuzzing (fast-check) of the gateway's unauthenticated and authenticated edges: 10,000 generated
// requests across /register, /token, /authorize, /revoke and /mcp of the real gateway app (fake IdP, in-memory
// store; client ID metadata documents off so no input reaches the internet) in front of the real worker. Every
// answer must be below 500, no request may crash a connection, and both stay healthy afterwards. Bounded by
// numRuns and a wall-clock interrupt; the counts are printed.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUnitStack, type UnitStack } from './unit-stack.js';

let stack: UnitStack;
const counts = new Map<string, Map<string, number>>();
const fivexx: string[] = [];
const crashes: string[] = [];

beforeAll(async () => {
  stack = await startUnitStack({ namespace: 'team-a', metadataDocuments: false });
});

afterAll(async () => {
  const rows = [...counts].map(([target, by]) => ({ target, inputs: [...by.values()].reduce((a, b) => a + b, 0), ...Object.fromEntries(by) }));
  console.log(`fuzz: ${rows.reduce((a, r) => a + r.inputs, 0)} inputs, ${fivexx.length} answers of 5xx, ${crashes.length} crashes`);
  console.table(rows);
  await stack?.close();
});

interface Input {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** Sends one input; records its status class. A thrown fetch (reset, hang) is a crash. */
async function send(target: string, input: Input): Promise<number> {
  let status: number;
  try {
    const res = await fetch(`${stack.base}${input.path}`, {
      method: input.method,
      headers: input.headers,
      ...(input.body !== undefined && input.method !== 'GET' ? { body: input.body } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(15_000),
    });
    await res.arrayBuffer();
    status = res.status;
  } catch (err) {
    crashes.push(`${target} ${input.method} ${input.path.slice(0, 120)}: ${(err as Error).message}`);
    status = 0;
  }
  const by = counts.get(target) ?? new Map<string, number>();
  counts.set(target, by);
  const cls = status === 0 ? 'crash' : `${Math.floor(status / 100)}xx`;
  by.set(cls, (by.get(cls) ?? 0) + 1);
  if (status >= 500) fivexx.push(`${target} ${status} ${input.method} ${input.path.slice(0, 120)} ${String(input.body ?? '').slice(0, 200)}`);
  return status;
}

// Values attackers like: empty, huge, control characters, unicode, JSON-ish fragments, URL tricks; and, often,
// the real client id, redirect URI and a valid PKCE pair, so inputs get past the first checks.
const valid = fc.constantFrom('client', 'redirect', 'challenge').map((k) => ({ client: stack.clientId, redirect: stack.redirectUri, challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' })[k]);
const junk = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.constantFrom('', ' ', '\u0000', '\ufeff', '%00', '../..', 'null', 'undefined', '__proto__', 'constructor', '[]', '{}', 'a'.repeat(5000), 'https://evil.example/cb', 'javascript:alert(1)', 'http://127.0.0.1:1/cb', 'S256', 'plain', 'code', 'token', 'refresh_token', 'authorization_code'),
  fc.webUrl(),
  fc.integer().map(String),
);
const nasty = fc.oneof({ arbitrary: junk, weight: 3 }, { arbitrary: valid, weight: 2 });
const params = (keys: string[]) => fc.dictionary(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 12 })), nasty, { maxKeys: 10 });
const contentType = fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x', '', 'application/x-www-form-urlencoded; charset=latin1');
const anyBody = fc.oneof(fc.json().map((j) => j), fc.string(), fc.uint8Array({ maxLength: 512 }).map((a) => a));

function formOrJson(keys: string[]) {
  return fc.tuple(params(keys), contentType, fc.boolean(), anyBody).map(([p, ct, structured, raw]) => ({
    headers: ct ? { 'content-type': ct } : ({} as Record<string, string>),
    body: structured ? (ct.startsWith('application/json') ? JSON.stringify(p) : new URLSearchParams(p as Record<string, string>).toString()) : raw,
  }));
}

const TOKEN_KEYS = ['grant_type', 'code', 'code_verifier', 'client_id', 'client_secret', 'redirect_uri', 'refresh_token', 'scope', 'resource'];
const AUTHZ_KEYS = ['response_type', 'client_id', 'redirect_uri', 'code_challenge', 'code_challenge_method', 'state', 'scope', 'resource', 'prompt'];
const REG_FIELDS = { redirect_uris: fc.oneof(fc.array(nasty, { maxLength: 12 }), nasty), token_endpoint_auth_method: fc.oneof(fc.constantFrom('none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'), nasty), client_name: nasty, grant_types: fc.array(nasty, { maxLength: 4 }), scope: nasty, logo_uri: nasty };

const RUNS = { register: 2000, token: 2000, authorize: 2000, revoke: 1500, mcp: 2500 };
// Generous: a loaded CI machine runs the whole unit project beside this file; the interrupt only stops a hang.
const LIMIT_MS = 240_000;
const opts = (numRuns: number) => ({ numRuns, interruptAfterTimeLimit: LIMIT_MS, markInterruptAsFailure: true, endOnFailure: true });

describe('fuzzing the gateway edges (10,000 inputs)', () => {
  it(`POST /register: ${RUNS.register} generated registrations answer below 500`, async () => {
    // One in three is a plausible registration (a loopback redirect URI, a public client) with fuzzed extras.
    const plausible = fc.record({ client_name: nasty, scope: nasty, grant_types: fc.array(nasty, { maxLength: 3 }), logo_uri: nasty }, { requiredKeys: [] })
      .map((r) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [stack.redirectUri], token_endpoint_auth_method: 'none', ...r }) }));
    const arb = fc.oneof(
      plausible,
      fc.record(REG_FIELDS, { requiredKeys: [] }).map((r) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(r) })),
      formOrJson(Object.keys(REG_FIELDS)),
    );
    await fc.assert(fc.asyncProperty(arb, async (i) => (await send('/register', { method: 'POST', path: '/orgs/acme/register', ...i })) < 500), opts(RUNS.register));
  }, LIMIT_MS + 30_000);

  it(`POST /token: ${RUNS.token} generated token requests answer below 500`, async () => {
    await fc.assert(fc.asyncProperty(formOrJson(TOKEN_KEYS), fc.option(nasty), async (i, basic) => {
      const headers = { ...i.headers, ...(basic !== null ? { authorization: `Basic ${Buffer.from(basic).toString('base64')}` } : {}) };
      return (await send('/token', { method: 'POST', path: '/orgs/acme/token', headers, body: i.body })) < 500;
    }), opts(RUNS.token));
  }, LIMIT_MS + 30_000);

  it(`GET and POST /authorize: ${RUNS.authorize} generated authorization requests answer below 500`, async () => {
    await fc.assert(fc.asyncProperty(params(AUTHZ_KEYS), fc.constantFrom('GET', 'POST'), async (p, method) => {
      const q = new URLSearchParams(p as Record<string, string>).toString();
      return (await send('/authorize', { method, path: `/orgs/acme/authorize?${q}`, headers: {} })) < 500;
    }), opts(RUNS.authorize));
  }, LIMIT_MS + 30_000);

  it(`POST /revoke: ${RUNS.revoke} generated revocations answer below 500`, async () => {
    await fc.assert(fc.asyncProperty(formOrJson(['token', 'token_type_hint', 'client_id', 'client_secret']), async (i) => (await send('/revoke', { method: 'POST', path: '/orgs/acme/revoke', ...i })) < 500), opts(RUNS.revoke));
  }, LIMIT_MS + 30_000);

  it(`POST/GET/DELETE /mcp: ${RUNS.mcp} generated MCP requests with a valid token answer below 500`, async () => {
    const method = fc.oneof({ arbitrary: fc.constantFrom('initialize', 'tools/list', 'tools/call', 'tools/call', 'notifications/initialized', 'ping', 'resources/list', 'server/discover', 'subscriptions/listen'), weight: 4 }, { arbitrary: fc.string({ maxLength: 20 }), weight: 1 });
    const message = fc.record({
      jsonrpc: fc.oneof({ arbitrary: fc.constant('2.0'), weight: 4 }, { arbitrary: fc.string({ maxLength: 4 }), weight: 1 }),
      id: fc.oneof(fc.integer(), fc.string({ maxLength: 10 }), fc.constant(null), fc.double()),
      method,
      params: fc.oneof(fc.record({ name: fc.oneof(fc.constantFrom('pods_list', 'whoami', 'pods_delete', 'resources_get', 'nope'), fc.string({ maxLength: 20 })), arguments: fc.oneof(fc.object({ maxDepth: 3 }), fc.json()) }, { requiredKeys: [] }), fc.object({ maxDepth: 3 })),
    }, { requiredKeys: ['jsonrpc', 'method'] });
    const body = fc.oneof(
      { arbitrary: message.map((m) => JSON.stringify(m)), weight: 4 },
      { arbitrary: fc.array(message, { maxLength: 5 }).map((b) => JSON.stringify(b)), weight: 1 },
      { arbitrary: anyBody.map((b) => (typeof b === 'string' || b instanceof Uint8Array ? b : JSON.stringify(b))), weight: 1 },
    );
    // Most requests carry the headers a real client sends, so the body reaches the gateway's parser and the worker.
    const headers = fc.record({
      'content-type': fc.oneof({ arbitrary: fc.constant('application/json'), weight: 8 }, { arbitrary: fc.constantFrom('text/plain', 'application/json; charset=utf-16', 'application/octet-stream'), weight: 1 }),
      accept: fc.oneof({ arbitrary: fc.constant('application/json, text/event-stream'), weight: 8 }, { arbitrary: fc.constantFrom('application/json', 'text/event-stream', '*/*'), weight: 1 }),
      'mcp-protocol-version': fc.oneof({ arbitrary: fc.constant('2025-06-18'), weight: 6 }, { arbitrary: fc.constantFrom('2025-11-25', '2026-07-28', '1999-01-01', 'x'), weight: 1 }),
      'mcp-session-id': fc.oneof({ arbitrary: fc.constant(''), weight: 4 }, { arbitrary: fc.string({ maxLength: 40 }).filter((s) => /^[\x21-\x7e]*$/.test(s)), weight: 1 }),
      'mcp-method': fc.oneof(fc.constantFrom('tools/call', 'tools/list'), fc.constant('')),
    }, { requiredKeys: ['content-type', 'accept'] });
    await fc.assert(fc.asyncProperty(fc.constantFrom('POST', 'POST', 'POST', 'GET', 'DELETE'), headers, body, async (m, h, b) => {
      const clean = Object.fromEntries(Object.entries(h).filter(([, v]) => v !== ''));
      return (await send('/mcp', { method: m, path: '/orgs/acme/mcp', headers: { ...clean, authorization: `Bearer ${stack.tokens.read}` }, body: b })) < 500;
    }), opts(RUNS.mcp));
  }, LIMIT_MS + 30_000);

  it('ran 10,000 inputs with no 5xx and no crash, and the gateway and worker are healthy afterwards', async () => {
    const total = [...counts.values()].flatMap((by) => [...by.values()]).reduce((a, b) => a + b, 0);
    expect(total).toBe(Object.values(RUNS).reduce((a, b) => a + b, 0));
    expect(fivexx).toEqual([]);
    expect(crashes).toEqual([]);
    expect((await fetch(`${stack.base}/healthz`)).status).toBe(200);
    expect((await fetch(stack.workerUrl.replace(/\/mcp$/, '/healthz'))).status).toBe(200);
    const list = await fetch(stack.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${stack.tokens.read}`, 'mcp-protocol-version': '2025-06-18' },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    });
    expect(list.status).toBe(200);
    expect(await list.text()).toContain('pods_list');
  });
});
