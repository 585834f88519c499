import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientFactory } from '../k8s/clients.js';
import { KubeApiError } from '../k8s/errors.js';
import { startFakeApiserver, type FakeApiserver } from '../testing/fake-apiserver.js';
import { connectInMemory, testConfig, testDeps } from '../testing/harness.js';

let api: FakeApiserver;
beforeAll(async () => {
  api = await startFakeApiserver((req, body) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api/v1/namespaces/team-a/pods/nope') return { status: 404, body: { kind: 'Status', reason: 'NotFound', code: 404, message: 'pods "nope" not found' } };
    if (url.pathname === '/api/v1/pods') return { status: 403, body: { kind: 'Status', reason: 'Forbidden', code: 403, message: 'pods is forbidden: User "oidc:bob" cannot list resource "pods" in API group "" at the cluster scope' } };
    if (url.pathname === '/apis/metrics.k8s.io/v1beta1/nodes') return { status: 403, body: { kind: 'Status', reason: 'Forbidden', code: 403, message: 'nodes.metrics.k8s.io is forbidden: User "oidc:carol" cannot list resource "nodes" in API group "metrics.k8s.io" at the cluster scope' } };
    if (url.pathname === '/api/v1/namespaces') return { status: 200, body: { items: ['team-a', 'team-b', 'team-c'].map((name) => ({ metadata: { name } })) } };
    if (url.pathname === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
      const ns = (JSON.parse(body) as { spec: { resourceAttributes: { namespace: string } } }).spec.resourceAttributes.namespace;
      return { status: 201, body: { status: { allowed: ns === 'team-b' || ns === 'team-c' } } };
    }
    if (url.pathname === '/big') return { status: 200, body: { items: Array.from({ length: 100 }, (_, i) => ({ i, pad: 'x'.repeat(100) })) } };
    return undefined;
  });
});
afterAll(() => api.close());

describe('errors that say what to do next', () => {
  it('a 404 names the cluster and namespace it searched and how to find the object', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'pods_get', arguments: { name: 'nope', namespace: 'team-a' } });
    expect(res.isError).toBe(true);
    expect((res.content as Array<{ text: string }>)[0]!.text).toBe(
      'NotFound: pods "nope" not found (looked in namespace team-a of cluster test). To find it: resources_list kind=pods without namespace searches all namespaces, and fieldSelector=metadata.name=nope narrows to the name; api_resources_list shows the kinds this cluster serves.',
    );
    await close();
  });

  it('a cluster-scope 403 says in which namespaces the caller may do it', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'pods_list', arguments: {} });
    expect(res.isError).toBe(true);
    expect((res.content as Array<{ text: string }>)[0]!.text).toMatch(/^Forbidden: pods is forbidden: .* at the cluster scope\. You may list pods in: team-b, team-c\. Pass one as namespace=<name>\.$/);
    await close();
  });

  it('a cluster-scope 403 from a tool without a namespace argument is not told to pass one', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'nodes_top', arguments: {} });
    expect(res.isError).toBe(true);
    expect((res.content as Array<{ text: string }>)[0]!.text).toBe(
      'Forbidden: nodes.metrics.k8s.io is forbidden: User "oidc:carol" cannot list resource "nodes" in API group "metrics.k8s.io" at the cluster scope',
    );
    await close();
  });

  it('an answer over the read cap is an explicit refusal, never a half-parsed JSON', async () => {
    const rest = new ClientFactory(testConfig(api.url).clusters).forIdentity('test', { kind: 'bearer', token: 't' }).rest;
    const err = await rest.get('/big', { maxBytes: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).toToolText()).toMatch(/^TooLarge: the apiserver's answer was over this worker's 1000-byte read cap and was not read in part; narrow the request/);
  });
});
