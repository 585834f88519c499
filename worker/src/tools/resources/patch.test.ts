import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISCOVERY_APIS, DISCOVERY_CORE, startFakeApiserver, type FakeApiserver } from '../../testing/fake-apiserver.js';
import { connectInMemory, testConfig, testDeps } from '../../testing/harness.js';

const VALUE_B64 = 'aHVudGVyMg==';
let api: FakeApiserver;
const bodies: string[] = [];

beforeAll(async () => {
  api = await startFakeApiserver((req, body) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api') return { status: 200, body: DISCOVERY_CORE };
    if (url.pathname === '/apis') return { status: 200, body: DISCOVERY_APIS };
    if (url.pathname === '/api/v1/namespaces/team-a/secrets/db' && req.method === 'PATCH') {
      bodies.push(body);
      // Answers like an apiserver that applied the patch: the stored object, values included.
      return { status: 200, body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'team-a', labels: { a: 'b' } }, data: { password: VALUE_B64 } } };
    }
    if (url.pathname === '/api/v1/namespaces/team-a/secrets/bad' && req.method === 'PATCH')
      return { status: 422, body: { kind: 'Status', code: 422, reason: 'Invalid', message: `Secret "bad" is invalid: metadata.labels: Invalid value: "${VALUE_B64}"`, details: { causes: [{ field: 'metadata.labels', reason: 'FieldValueInvalid' }] } } };
    return undefined;
  });
});
afterAll(() => api.close());

describe('resources_patch on Secrets', () => {
  it('refuses a JSON patch reading data without sending anything to the apiserver', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const before = api.requests.filter((r) => r.method === 'PATCH').length;
    for (const ops of [
      [{ op: 'copy', from: '/data/password', path: '/metadata/annotations/x' }],
      [{ op: 'test', path: '/data/password', value: VALUE_B64 }],
      '[{"op":"move","from":"/data/password","path":"/metadata/labels/x"}]',
    ]) {
      const res = await client.callTool({ name: 'resources_patch', arguments: { kind: 'SECRET', name: 'db', namespace: 'team-a', type: 'json', patch: ops, dryRun: true } });
      expect(res.isError).toBe(true);
      expect(JSON.stringify(res)).toMatch(/is refused/);
      expect(JSON.stringify(res)).not.toContain(VALUE_B64);
    }
    expect(api.requests.filter((r) => r.method === 'PATCH').length).toBe(before);
    await close();
  });

  it('sends an allowed JSON patch as the operations it checked, and masks the result', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({
      name: 'resources_patch',
      arguments: { kind: 'secret', name: 'db', namespace: 'team-a', type: 'json', patch: '[{"op":"add","path":"/metadata/labels/a","value":"b", "path":"/metadata/labels/a"}]' },
    });
    expect(res.isError).toBeFalsy();
    expect(JSON.parse(bodies.at(-1)!)).toEqual([{ op: 'add', path: '/metadata/labels/a', value: 'b' }]);
    expect(JSON.stringify(res)).not.toContain(VALUE_B64);
    expect(JSON.stringify(res)).toContain("password: '***'");
    await close();
  });

  it('withholds an apiserver rejection that quotes a value', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'resources_patch', arguments: { kind: 'Secret', name: 'bad', namespace: 'team-a', patch: { metadata: { labels: { x: 'y' } } } } });
    expect(res.isError).toBe(true);
    expect(JSON.stringify(res)).not.toContain(VALUE_B64);
    expect(JSON.stringify(res)).toContain('metadata.labels (FieldValueInvalid)');
    await close();
  });
});
