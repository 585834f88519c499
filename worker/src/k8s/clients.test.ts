import { mkdtempSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWorkerConfig } from '../config.js';
import { startFakeApiserver, type FakeApiserver } from '../testing/fake-apiserver.js';
import { ClientFactory } from './clients.js';
import { createClusterTransport } from './transport.js';

// Impersonation where the impersonating identity comes from a kubeconfig (what `npm start` uses with a
// developer's own cluster): that user's credentials authenticate, the signed-in user is impersonated.
let api: FakeApiserver;
const dir = mkdtempSync(path.join(tmpdir(), 'kmg-imp-kc-'));
const assertion = { issuer: 'https://gw.test', audience: 'worker-test', publicKey: 'unused-here' };

function kubeconfig(name: string, server: string, user: Record<string, string>): string {
  const file = path.join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // client-node refuses plain http unless told to skip TLS verification (the fake apiserver is http).
      clusters: [{ name: 'c', cluster: { server, ...(server.startsWith('http:') ? { 'insecure-skip-tls-verify': true } : {}) } }],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'ctx',
    }),
  );
  return file;
}

beforeAll(async () => {
  api = await startFakeApiserver((req) =>
    req.url?.startsWith('/api/v1/namespaces') ? { status: 200, body: { kind: 'NamespaceList', apiVersion: 'v1', items: [] } } : undefined,
  );
});
afterAll(() => api.close());

describe('impersonation with a kubeconfig as the impersonating identity', () => {
  it('authenticates with the kubeconfig user and impersonates the asserted user and groups', async () => {
    const file = kubeconfig('token.kubeconfig', api.url, { token: 'kubeconfig-admin-token' });
    const [cluster] = parseWorkerConfig({ clusters: [{ name: 'c', identity: 'impersonation', kubeconfig: file, context: 'ctx' }], assertion }).clusters;
    const clients = new ClientFactory([cluster!]).forIdentity('c', { kind: 'impersonation', user: 'dev-viewer', groups: ['kmg:dev-viewers'] });
    await clients.rest.raw('GET', '/api/v1/namespaces');
    const seen = api.requests.at(-1)!;
    expect(seen.headers.authorization).toBe('Bearer kubeconfig-admin-token');
    expect(seen.headers['impersonate-user']).toBe('dev-viewer');
    expect(seen.headers['impersonate-group']).toBe('kmg:dev-viewers');
  });

  it('authenticates with the kubeconfig client certificate in the TLS agent, sending no bearer', async () => {
    const user = {
      'client-certificate-data': Buffer.from('-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n').toString('base64'),
      'client-key-data': Buffer.from('-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n').toString('base64'),
    };
    const tls = kubeconfig('cert.kubeconfig', 'https://127.0.0.1:6443', user);
    const [cluster] = parseWorkerConfig({ clusters: [{ name: 'c', identity: 'impersonation', kubeconfig: tls }], assertion }).clusters;
    const transport = createClusterTransport(cluster!);
    expect(transport.agent).toBeInstanceOf(https.Agent);
    const agentOpts = (transport.agent as https.Agent).options;
    expect(String(agentOpts.cert)).toContain('CERT');
    expect(String(agentOpts.key)).toContain('KEY');
    expect(transport.server.toString()).toBe('https://127.0.0.1:6443/');

    // The same user against the (plain http) fake: only the impersonation headers go out.
    const plain = kubeconfig('cert-http.kubeconfig', api.url, user);
    const [c2] = parseWorkerConfig({ clusters: [{ name: 'c', identity: 'impersonation', kubeconfig: plain }], assertion }).clusters;
    await new ClientFactory([c2!]).forIdentity('c', { kind: 'impersonation', user: 'dev-admin', groups: [] }).rest.raw('GET', '/api/v1/namespaces');
    const seen = api.requests.at(-1)!;
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers['impersonate-user']).toBe('dev-admin');
    expect(seen.headers['impersonate-group']).toBeUndefined();
  });

  it('takes a service-account token file or a kubeconfig, not both and not neither', () => {
    const file = kubeconfig('x.kubeconfig', api.url, { token: 't' });
    expect(() => parseWorkerConfig({ clusters: [{ name: 'c', identity: 'impersonation', kubeconfig: file, serviceAccountTokenFile: '/t' }], assertion })).toThrow(
      /kubeconfig: give serviceAccountTokenFile or kubeconfig, not both/,
    );
    expect(() => parseWorkerConfig({ clusters: [{ name: 'c', identity: 'impersonation', server: api.url }], assertion })).toThrow(
      /serviceAccountTokenFile: required for identity impersonation/,
    );
    expect(() => parseWorkerConfig({ clusters: [{ name: 'c', identity: 'bearer', server: api.url, kubeconfig: file }] })).toThrow(/bearer identity uses the caller's token/);
  });
});
