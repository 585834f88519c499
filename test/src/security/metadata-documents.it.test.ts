// Attacks through client ID metadata documents (an https URL as client_id, fetched by the gateway): SSRF to
// private and special addresses in every spelling, redirects to private addresses, the fetch error as a port
// oracle, and documents that would bypass an org's registration policy. The documents are served by this suite
// over https with the stack's certificate on the loopback interface, so a fetch that should not happen is seen.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackEnv, readStackEnvRaw, type StackEnv } from '../stack/env.js';
import { newPkce } from '../support/oauth-flow.js';
import { startSecurityGateway, type SecurityGateway } from './harness.js';
import { expectNothingLeaked } from './leaks.js';

let env: StackEnv;
let gw: SecurityGateway;
let docs: https.Server;
let port: number;
/** Paths the document server was asked for. */
const fetched: string[] = [];
/** What each path answers (JSON documents, or a redirect). */
const routes = new Map<string, { status: number; body?: string; location?: string }>();
const answers: string[] = [];
const REDIRECT = 'http://127.0.0.1:41998/callback';

beforeAll(async () => {
  env = loadStackEnv();
  const raw = readStackEnvRaw()!;
  gw = await startSecurityGateway(env);
  docs = https.createServer({ cert: readFileSync(raw.STACK_SERVER_CERT_FILE!), key: readFileSync(raw.STACK_SERVER_KEY_FILE!) }, (req, res) => {
    fetched.push(req.url ?? '');
    const r = routes.get(req.url ?? '') ?? { status: 404, body: '{}' };
    res.writeHead(r.status, { 'content-type': 'application/json', ...(r.location ? { location: r.location } : {}) });
    res.end(r.body ?? '');
  });
  // Dual-stack, so IPv4 and IPv6 loopback spellings all reach it if the gateway ever connects.
  await new Promise<void>((r) => docs.listen(0, '::', () => r()));
  port = (docs.address() as AddressInfo).port;
});

afterAll(async () => {
  docs?.closeAllConnections();
  await new Promise((r) => (docs ? docs.close(() => r(undefined)) : r(undefined)));
  await gw?.close();
});

/** Publishes a document at `path` whose client_id is `clientId` (defaults to the loopback URL of that path). */
function publish(path: string, doc: Record<string, unknown>): void {
  routes.set(path, { status: 200, body: JSON.stringify(doc) });
}

async function authorize(org: string, clientId: string, redirectUri = REDIRECT) {
  const u = new URL(`${gw.issuer(org)}/authorize`);
  for (const [k, v] of Object.entries({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, state: 's', code_challenge: newPkce().challenge, code_challenge_method: 'S256' })) u.searchParams.set(k, v);
  const res = await fetch(u, { redirect: 'manual' });
  const text = await res.text();
  answers.push(text);
  return { status: res.status, location: res.headers.get('location') ?? '', text };
}

const toKeycloak = (location: string) => location.startsWith(env.KEYCLOAK_URL);
const nothingLeaked = () => expectNothingLeaked({ answers, logs: gw.logs, secrets: [env.SEED_SECRET_VALUE, env.GATEWAY_CLIENT_SECRET] });

describe('the document server is reachable when an org allows private addresses (control)', () => {
  it('org listed signs in a loopback-redirect client from its document', async () => {
    const url = `https://127.0.0.1:${port}/ok.json`;
    publish('/ok.json', { client_id: url, client_name: 'doc client', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' });
    const r = await authorize('listed', url);
    expect(r.status, r.text).toBe(302);
    expect(toKeycloak(r.location)).toBe(true);
    expect(fetched).toContain('/ok.json');
  });
});

describe('SSRF: documents on private and special addresses (org gw blocks them)', () => {
  const hosts: Array<[string, string]> = [
    ['127.0.0.1', '127.0.0.1'],
    ['a DNS name resolving to loopback (localhost)', 'localhost'],
    ['0.0.0.0', '0.0.0.0'],
    ['IPv4-mapped IPv6 loopback [::ffff:127.0.0.1]', '[::ffff:127.0.0.1]'],
    ['IPv6 loopback [::1]', '[::1]'],
    ['the NAT64 prefix 64:ff9b::/96 ([64:ff9b::7f00:1])', '[64:ff9b::7f00:1]'],
    ['deprecated site-local fec0::/10 ([fec0::1])', '[fec0::1]'],
    ['the shorthand 127.1', '127.1'],
    ['the decimal form 2130706433', '2130706433'],
    ['the hex form 0x7f000001', '0x7f000001'],
    ['link-local cloud metadata 169.254.169.254', '169.254.169.254'],
    ['private 10.0.0.1', '10.0.0.1'],
    ['private 192.168.0.1', '192.168.0.1'],
    ['unique-local [fd00::1]', '[fd00::1]'],
  ];
  for (const [what, host] of hosts) {
    it(`refuses a client_id document on ${what} without fetching it`, async () => {
      const path = `/ssrf-${encodeURIComponent(host)}.json`;
      const url = `https://${host}:${port}${path}`;
      publish(path, { client_id: url, redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' });
      const r = await authorize('gw', url);
      expect(r.status, r.location || r.text).toBe(400);
      expect(toKeycloak(r.location)).toBe(false);
      expect(fetched).not.toContain(path);
      // The refusal must not become an oracle about the address (no socket errors echoed).
      expect(r.text).not.toMatch(/ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|socket|getaddrinfo/i);
      nothingLeaked();
    }, 30_000);
  }
});

describe('metadata documents that try to get around the checks', () => {
  it('refuses a document that redirects to a private address, and does not follow it', async () => {
    const target = http.createServer((_req, res) => res.end('{"client_id":"x"}'));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
    const hits: string[] = [];
    target.on('request', (req) => hits.push(req.url ?? ''));
    try {
      const url = `https://127.0.0.1:${port}/redirect.json`;
      routes.set('/redirect.json', { status: 302, location: `http://127.0.0.1:${(target.address() as AddressInfo).port}/internal` });
      const r = await authorize('listed', url);
      expect(r.status).toBe(400);
      expect(toKeycloak(r.location)).toBe(false);
      expect(hits).toEqual([]);
      nothingLeaked();
    } finally {
      target.close();
    }
  });

  it('does not tell a closed port from an open one in the fetch error (no port oracle)', async () => {
    const closed = await new Promise<number>((r) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => r(p));
      });
    });
    const open = net.createServer((sock) => sock.end('SSH-2.0-OpenSSH_9.6\r\n'));
    await new Promise<void>((r) => open.listen(0, '127.0.0.1', () => r()));
    try {
      const a = await authorize('listed', `https://127.0.0.1:${closed}/c.json`);
      const b = await authorize('listed', `https://127.0.0.1:${(open.address() as AddressInfo).port}/c.json`);
      expect(a.status).toBe(400);
      expect(b.status).toBe(400);
      // What a page says (tags, styles and per-response nonces aside) must not depend on the port's state.
      const visible = (t: string) => t.replace(/<style[\s\S]*?<\/style>|<script[\s\S]*?<\/script>/g, ' ').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
      expect(visible(a.text)).toBe(visible(b.text));
      expect(a.text + b.text).not.toMatch(/ECONNREFUSED|ECONNRESET|socket|TLS|SSL|certificate|wrong version/i);
      nothingLeaked();
    } finally {
      open.close();
    }
  });

  it('refuses a document whose redirect URI the org\'s allow list does not permit (registration policy applies)', async () => {
    const url = `https://127.0.0.1:${port}/evil-redirect.json`;
    publish('/evil-redirect.json', { client_id: url, client_name: 'Totally Legit', redirect_uris: ['https://evil.example/cb'], token_endpoint_auth_method: 'none' });
    const r = await authorize('listed', url, 'https://evil.example/cb');
    expect(toKeycloak(r.location), r.location).toBe(false);
    expect(r.status).toBe(400);
    nothingLeaked();
  });

  it('refuses a document whose client_id is another URL', async () => {
    const url = `https://127.0.0.1:${port}/mismatch.json`;
    publish('/mismatch.json', { client_id: `https://127.0.0.1:${port}/other.json`, redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' });
    const r = await authorize('listed', url);
    expect(r.status).toBe(400);
    expect(toKeycloak(r.location)).toBe(false);
    nothingLeaked();
  });

  it('refuses a document with a javascript: redirect URI', async () => {
    const url = `https://127.0.0.1:${port}/js.json`;
    publish('/js.json', { client_id: url, redirect_uris: ['javascript:alert(1)//'], token_endpoint_auth_method: 'none' });
    const r = await authorize('listed', url, 'javascript:alert(1)//');
    expect(r.status).toBe(400);
    expect(r.location).toBe('');
    nothingLeaked();
  });

  it('refuses a document larger than the size limit', async () => {
    const url = `https://127.0.0.1:${port}/huge.json`;
    publish('/huge.json', { client_id: url, client_name: 'x'.repeat(64 * 1024), redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' });
    const r = await authorize('listed', url);
    expect(r.status).toBe(400);
    expect(toKeycloak(r.location)).toBe(false);
    nothingLeaked();
  });

  it('refuses a document that is not JSON without echoing it', async () => {
    const url = `https://127.0.0.1:${port}/html.json`;
    routes.set('/html.json', { status: 200, body: '<html><body>internal admin console: token=s3cr3t</body></html>' });
    const r = await authorize('listed', url);
    expect(r.status).toBe(400);
    expect(r.text).not.toContain('internal admin console');
    nothingLeaked();
  });

  it('refuses an http (not https) client_id URL', async () => {
    const r = await authorize('gw', `http://127.0.0.1:${port}/ok.json`);
    expect(r.status).toBe(400);
    expect(toKeycloak(r.location)).toBe(false);
    nothingLeaked();
  });
});
