import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWarning } from '../../k8s/warnings.js';
import { DISCOVERY_APIS, DISCOVERY_CORE, startFakeApiserver, type FakeApiserver } from '../../testing/fake-apiserver.js';
import { connectInMemory, testConfig, testDeps } from '../../testing/harness.js';

const CORE_WITH_CM = structuredClone(DISCOVERY_CORE);
CORE_WITH_CM.items[0]!.versions[0]!.resources.push({ resource: 'configmaps', responseKind: { group: '', version: 'v1', kind: 'ConfigMap' }, scope: 'Namespaced', singularResource: 'configmap', verbs: ['get', 'list', 'patch'] });

let api: FakeApiserver;
beforeAll(async () => {
  api = await startFakeApiserver((req) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api') return { status: 200, body: CORE_WITH_CM };
    if (url.pathname === '/apis') return { status: 200, body: DISCOVERY_APIS };
    if (url.pathname === '/apis/authentication.k8s.io/v1/selfsubjectreviews') return { status: 201, body: { status: { userInfo: { username: 'oidc:bob' } } } };
    if (url.pathname === '/api/v1/namespaces/team-a/configmaps/c' && req.method === 'PATCH')
      return {
        status: 200,
        body: { metadata: { name: 'c', namespace: 'team-a' }, data: { a: '1' } },
        headers: { warning: ['299 - "unknown field \\"dta\\""', '299 - "v1 ConfigMap is fine, this is a test deprecation"'] },
      };
    if (url.pathname === '/api/v1/namespaces/team-a/pods')
      return { status: 200, body: { kind: 'PodList', metadata: {}, items: [] }, headers: { warning: '299 - "listing pods is deprecated in this test"' } };
    return undefined;
  });
});
afterAll(() => api.close());

describe('server-side apply', () => {
  it('applies with fieldValidation=Strict and the caller\'s own field manager by default', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'resources_create_or_update', arguments: { manifest: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: team-a\ndata:\n  a: "1"\n' } });
    expect(res.isError).toBeFalsy();
    const patch = api.requests.find((r) => r.method === 'PATCH')!;
    const q = new URL(patch.url, 'http://x').searchParams;
    expect(q.get('fieldValidation')).toBe('Strict');
    expect(q.get('fieldManager')).toBe('kube-mcp/oidc:bob');
    await close();
  });

  it('shows every Warning header of the apiserver at the top of the result', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'resources_create_or_update', arguments: { manifest: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: team-a\n', fieldValidation: 'Warn' } });
    const text = (res.content as Array<{ text: string }>)[0]!.text;
    expect(text.split('\n').slice(0, 2)).toEqual(['Warning (from the apiserver): unknown field "dta"', 'Warning (from the apiserver): v1 ConfigMap is fine, this is a test deprecation']);
    await close();
  });

  it('shows warnings on list results too', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'pods_list', arguments: { namespace: 'team-a', format: 'normal' } });
    expect((res.content as Array<{ text: string }>)[0]!.text).toMatch(/^Warning \(from the apiserver\): listing pods is deprecated in this test\nNo pods found/);
    await close();
  });

  it('reads the RFC 9111 warn-text', () => {
    expect(parseWarning('299 - "a \\"quoted\\" field"')).toBe('a "quoted" field');
    expect(parseWarning('not a warning header')).toBe('not a warning header');
  });
});
