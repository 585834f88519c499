import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterSchema, mcpGlobalSchema } from '../config/mcp.js';
import type { Principal } from '../auth/principal.js';
import { IdentityAssertionSigner } from './assertion.js';
import { IdentityRefusedError } from './errors.js';
import { impersonationNames } from './impersonation-names.js';
import { configSchema } from '../config/schema.js';
import { obtainTokens, testApp } from '../oauth/testing.js';

const cluster = (over: Record<string, unknown> = {}) => clusterSchema.parse({ name: 'c1', workers: ['http://127.0.0.1:9/'], identity: 'impersonation', ...over });
const principal = (username: string, groups: string[]): Principal => ({ org: 'acme', sub: 'u-1', username, groups, clientId: 'c', scopes: [], expiresAt: 0, mode: 'gateway' });

describe('impersonation names', () => {
  it('prefix the user and groups with oidc: by default, the names a bearer-mode apiserver gives the same user', () => {
    expect(impersonationNames(principal('alice', ['k8s-admins']), cluster())).toEqual({ user: 'oidc:alice', groups: ['oidc:k8s-admins'], dropped: [] });
  });

  it('keep an IdP user or group called system:masters inside the prefix, where it has no rights', () => {
    expect(impersonationNames(principal('system:kube-controller-manager', ['system:masters']), cluster())).toEqual({
      user: 'oidc:system:kube-controller-manager',
      groups: ['oidc:system:masters'],
      dropped: [],
    });
  });

  it.each([
    ['no prefix', { usernamePrefix: '', groupPrefix: '' }, 'system:kube-controller-manager'],
    ['no prefix, other case', { usernamePrefix: '', groupPrefix: '' }, 'SYSTEM:admin'],
    ['a prefix that is itself system:', { usernamePrefix: 'system:', groupPrefix: 'system:' }, 'alice'],
  ])('refuse a user that would be a system: name (%s)', (_n, over, username) => {
    expect(() => impersonationNames(principal(username, []), cluster(over))).toThrow(IdentityRefusedError);
  });

  it('leave out groups that would be system: names and keep the others', () => {
    const n = impersonationNames(principal('alice', ['system:masters', 'System:Nodes', 'k8s-viewers']), cluster({ usernamePrefix: '', groupPrefix: '' }));
    expect(n).toEqual({ user: 'alice', groups: ['k8s-viewers'], dropped: ['system:masters', 'System:Nodes'] });
  });

  it('refuse names a header cannot carry', () => {
    expect(() => impersonationNames(principal('alice\r\nImpersonate-Group: system:masters', []), cluster())).toThrow(IdentityRefusedError);
    expect(impersonationNames(principal('alice', ['ok', 'bad\ngroup']), cluster()).groups).toEqual(['oidc:ok']);
  });

  it('are what the signed assertion carries', async () => {
    const signer = await IdentityAssertionSigner.create(mcpGlobalSchema.parse({}).identityAssertion, 'https://gw.test');
    const claims = decodeJwt(await signer.sign(principal('alice', ['k8s-admins', 'system:masters']), cluster({ groupPrefix: 'kc:' }), 'kmg-worker'));
    expect(claims).toMatchObject({ sub: 'oidc:alice', groups: ['kc:k8s-admins', 'kc:system:masters'], cluster: 'c1' });
    await expect(signer.sign(principal('system:admin', []), cluster({ usernamePrefix: '' }), 'kmg-worker')).rejects.toBeInstanceOf(IdentityRefusedError);
  });
});

describe('the MCP path for a user that cannot be impersonated', () => {
  let worker: Server;
  let workerCalls = 0;
  beforeAll(async () => {
    worker = createServer((req, res) => {
      if (req.url?.startsWith('/mcp')) workerCalls++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((r) => worker.listen(0, '127.0.0.1', r));
  });
  afterAll(() => void worker.close());

  it('is refused with 403 before anything reaches a worker', async () => {
    const url = `http://127.0.0.1:${(worker.address() as AddressInfo).port}/`;
    const clusters = [{ name: 'c1', workers: [url], identity: 'impersonation', usernamePrefix: '', groupPrefix: '' }];
    const kc = { issuer: 'https://kc.test/realms/mcp', clientSecret: 'secret' };
    const config = configSchema.parse({ publicUrl: 'https://gw.test', orgs: [{ name: 'acme', clusters, oauth: { keycloak: kc } }] });
    const { app, idp } = testApp(config);
    idp.user = { sub: 'u-kcm', username: 'system:kube-controller-manager', groups: ['system:masters'] };
    const { tokens } = await obtainTokens(app);
    const res = await request(app)
      .post('/orgs/acme/mcp')
      .set('Authorization', `Bearer ${tokens.access_token}`)
      .set('Accept', 'application/json, text/event-stream')
      .send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'pods_delete', arguments: { namespace: 'kube-system', name: 'x' } } });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(/cannot be impersonated/);
    expect(workerCalls).toBe(0);
    expect(JSON.stringify(res.body)).not.toContain('system:masters');
  });
});
