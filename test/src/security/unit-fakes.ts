// Stand-ins for the unit chain: the fake identity provider (shared with the gateway's OAuth unit tests, from
// test/src/support/fake-idp.ts), a browser-less walk through
// authorize → IdP → callback → consent → token, and an apiserver that records what it was asked.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import request from 'supertest';
import { pkce } from '../support/fake-idp.js';

export { FakeIdp } from '../support/fake-idp.js';

export const REDIRECT = 'http://127.0.0.1:33418/callback';

export async function registerClient(app: Express, base: string): Promise<string> {
  const res = await request(app).post(`${base}/register`).send({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', client_name: 'unit chain' });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${res.text}`);
  return (res.body as { client_id: string }).client_id;
}

/** Signs alice in through the fake IdP and the consent page; returns an access token with `scope`. */
export async function accessToken(app: Express, base: string, scope: string): Promise<string> {
  const clientId = await registerClient(app, base);
  const p = pkce();
  const a = await request(app).get(`${base}/authorize`).query({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: p.challenge, code_challenge_method: 'S256', state: 's', scope });
  if (a.status !== 302) throw new Error(`authorize: ${a.status} ${a.text}`);
  const cookie = (a.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
  const state = new URL(a.headers.location!).searchParams.get('state')!;
  const cb = await request(app).get(`${base}/callback`).query({ code: 'kc-code', state }).set('Cookie', cookie);
  let location = cb.headers.location!;
  if (location.includes('/consent?')) {
    const u = new URL(location);
    const page = await request(app).get(u.pathname + u.search).set('Cookie', cookie);
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(page.text)?.[1] ?? '';
    const post = await request(app).post(u.pathname).type('form').set('Cookie', cookie).send({ id: field('id'), tx: field('tx'), csrf: field('csrf'), decision: 'approve' });
    location = post.headers.location!;
  }
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error(`no code in ${location}`);
  const t = await request(app).post(`${base}/token`).type('form').send({ grant_type: 'authorization_code', code, code_verifier: p.verifier, client_id: clientId, redirect_uri: REDIRECT });
  if (t.status !== 200) throw new Error(`token: ${t.status} ${t.text}`);
  return (t.body as { access_token: string }).access_token;
}

export interface RecordingApiserver {
  url: string;
  requests: Array<{ method: string; url: string }>;
  close(): Promise<void>;
}

/** Answers pod reads and deletes in `namespace` (404 for anything else) and records every request. */
export async function recordingApiserver(namespace: string): Promise<RecordingApiserver> {
  const requests: RecordingApiserver['requests'] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '' });
      const pods = `/api/v1/namespaces/${namespace}/pods`;
      let body: unknown = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' };
      let status = 404;
      if (req.method === 'DELETE' && req.url?.startsWith(`${pods}/`)) {
        status = 200;
        body = { apiVersion: 'v1', kind: 'Pod', metadata: { name: req.url.slice(pods.length + 1).split('?')[0], namespace } };
      } else if (req.method === 'GET' && req.url?.startsWith(pods)) {
        status = 200;
        body = { apiVersion: 'v1', kind: 'PodList', metadata: {}, items: [] };
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
