import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISCOVERY_APIS, DISCOVERY_CORE, startFakeApiserver, type FakeApiserver } from '../../testing/fake-apiserver.js';
import { connectInMemory, testConfig, testDeps } from '../../testing/harness.js';
import { changedPaths, secretChangedPaths } from './rollback.js';

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64');
const encode = (release: unknown) => b64(gzipSync(Buffer.from(JSON.stringify(release))).toString('base64'));
const decode = (data: string) => JSON.parse(gunzipSync(Buffer.from(Buffer.from(data, 'base64').toString(), 'base64')).toString()) as { version: number; info: { status: string; description: string } };
const POD = (image: string) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p1\nspec:\n  containers:\n  - name: app\n    image: ${image}\n`;

const secrets = new Map<string, { metadata: { name: string; namespace: string; resourceVersion: string; labels: Record<string, string> }; data: { release: string } }>();
function seed(v: number, status: string, image: string) {
  const name = `sh.helm.release.v1.app.v${v}`;
  const release = { name: 'app', namespace: 'apps', version: v, info: { status, description: 'Upgrade complete' }, chart: { metadata: { name: 'app', version: `0.${v}.0` } }, config: { password: 'values-pw-8812' }, manifest: POD(image) };
  secrets.set(name, { metadata: { name, namespace: 'apps', resourceVersion: '1', labels: { owner: 'helm', name: 'app', version: String(v), status } }, data: { release: encode(release) } });
}
const writes: Array<{ method: string; name: string; status: string; description: string }> = [];

let api: FakeApiserver;
beforeAll(async () => {
  seed(1, 'superseded', 'app:1');
  seed(2, 'deployed', 'app:2');
  api = await startFakeApiserver((req, body) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api') return { status: 200, body: DISCOVERY_CORE };
    if (url.pathname === '/apis') return { status: 200, body: DISCOVERY_APIS };
    if (url.pathname === '/apis/authentication.k8s.io/v1/selfsubjectreviews') return { status: 201, body: { status: { userInfo: { username: 'oidc:bob' } } } };
    if (url.pathname === '/api/v1/namespaces/apps/secrets' && req.method === 'GET') return { status: 200, body: { kind: 'PartialObjectMetadataList', metadata: {}, items: [...secrets.values()].map((s) => ({ metadata: s.metadata })) } };
    const secret = /^\/api\/v1\/namespaces\/apps\/secrets\/?(.*)$/.exec(url.pathname);
    if (secret && req.method === 'GET') {
      const s = secrets.get(secret[1]!);
      return s ? { status: 200, body: s } : undefined;
    }
    if (secret && (req.method === 'POST' || req.method === 'PUT')) {
      const s = JSON.parse(body) as (typeof secrets extends Map<string, infer V> ? V : never);
      const r = decode(s.data.release);
      writes.push({ method: req.method, name: s.metadata.name, status: s.metadata.labels.status!, description: r.info.description });
      secrets.set(s.metadata.name, { ...s, metadata: { ...s.metadata, resourceVersion: '2' } });
      return { status: req.method === 'POST' ? 201 : 200, body: s };
    }
    if (url.pathname === '/api/v1/namespaces/apps/pods/p1') {
      if (req.method === 'GET') return { status: 200, body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'apps' }, spec: { containers: [{ name: 'app', image: 'app:2' }] } } };
      if (req.method === 'PATCH' && url.searchParams.get('dryRun') === 'All') return { status: 200, body: JSON.parse(body) as unknown };
      if (req.method === 'PATCH') return { status: 422, body: { kind: 'Status', reason: 'Invalid', code: 422, message: 'Pod "p1" is invalid: spec: Forbidden: pod updates may not change fields other than spec.containers[*].image' } };
    }
    return undefined;
  });
});
afterAll(() => api.close());

describe('helm_rollback', () => {
  it('records a failed rollback as helm does: the new revision failed with the reason, the current one superseded', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'helm_rollback', arguments: { name: 'app', namespace: 'apps', dryRun: false } });
    const text = (res.content as Array<{ text: string }>)[0]!.text;
    expect(res.isError).toBe(true);
    expect(text).toMatch(/^rollback of Helm release apps\/app to revision 1 failed: Invalid: Pod "p1" is invalid.*Done before the failure: nothing\. Revision 3 is recorded as failed/);
    expect(text).toContain('helm rollback app 1 -n apps');
    expect(writes.map((w) => `${w.method} ${w.name} ${w.status}`)).toEqual([
      'POST sh.helm.release.v1.app.v3 pending-rollback',
      'PUT sh.helm.release.v1.app.v3 failed',
      'PUT sh.helm.release.v1.app.v2 superseded',
    ]);
    expect(writes[1]!.description).toMatch(/^Rollback "app" failed: Invalid: Pod "p1" is invalid/);
    expect(JSON.stringify(res)).not.toContain('values-pw-8812');
    await close();
  });

  it('names changed fields by path, never by value', () => {
    expect(changedPaths({ spec: { c: [{ image: 'a' }, { image: 'b' }] }, data: { k: 's1' } }, { spec: { c: [{ image: 'a' }, { image: 'c' }] }, data: { k: 's2' } })).toEqual(['data.k', 'spec.c[1].image']);
  });
});

describe("a Secret's planned changes", () => {
  it('never say whether its values change (a crafted revision would confirm a guess)', () => {
    const live = { metadata: { labels: { a: '1' } }, data: { password: 'b2xk' } };
    const same = { metadata: { labels: { a: '2' } }, data: { password: 'b2xk' } };
    const other = { metadata: { labels: { a: '2' } }, data: { password: 'bmV3' } };
    const plan = (after: typeof same) => secretChangedPaths(changedPaths(live, after), after);
    expect(plan(same)).toEqual(['metadata.labels.a', 'data (Secret values are not compared)']);
    expect(plan(other)).toEqual(plan(same));
  });
});
