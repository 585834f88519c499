// Non-destructive mode: tools that always destroy are hidden, tools that destroy only with some arguments
// (scale to 0, a patch or apply that removes fields) stay listed, and the handler judges each call again,
// also when a caller reaches a tool the listing hid.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseWorkerConfig } from '../config.js';
import { callTool } from '../server.js';
import { DISCOVERY_APIS, DISCOVERY_CORE, startFakeApiserver, type FakeApiserver } from '../testing/fake-apiserver.js';
import { connectInMemory, testConfig, testDeps } from '../testing/harness.js';

let api: FakeApiserver;
const LIVE = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'team-a', labels: { app: 'web', tier: 'front' } }, spec: { replicas: 2 } };

beforeAll(async () => {
  api = await startFakeApiserver((req, body) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api') return { status: 200, body: DISCOVERY_CORE };
    if (url.pathname === '/apis') return { status: 200, body: DISCOVERY_APIS };
    if (url.pathname === '/apis/authentication.k8s.io/v1/selfsubjectreviews') return { status: 201, body: { status: { userInfo: { username: 'oidc:bob' } } } };
    if (url.pathname === '/apis/apps/v1/namespaces/team-a/deployments/web/scale') return { status: 200, body: { spec: { replicas: req.method === 'PATCH' ? (JSON.parse(body) as { spec: { replicas: number } }).spec.replicas : 2 } } };
    if (url.pathname === '/apis/apps/v1/namespaces/team-a/deployments/web') {
      if (req.method === 'GET') return { status: 200, body: LIVE };
      // A merge patch, applied like the apiserver would: null removes.
      const patch = JSON.parse(body) as { metadata?: { labels?: Record<string, string | null> } };
      const labels: Record<string, string | null> = { ...LIVE.metadata.labels, ...patch.metadata?.labels };
      for (const [k, v] of Object.entries(labels)) if (v === null) delete labels[k];
      return { status: 200, body: { ...LIVE, metadata: { ...LIVE.metadata, labels } } };
    }
    if (url.pathname === '/api/v1/namespaces/team-a/pods/web' && req.method === 'DELETE') return { status: 200, body: {} };
    return undefined;
  });
});
beforeEach(() => {
  api.requests.length = 0;
});
afterAll(() => api.close());

const writes = () => api.requests.filter((r) => r.method !== 'GET' && !r.url.includes('dryRun=All') && !r.url.includes('selfsubjectreviews'));
const text = (res: { content?: unknown }) => (res.content as Array<{ text: string }>)[0]!.text;

describe('non-destructive mode', () => {
  it('keeps scale, patch and apply listed, marked destructive, and hides deletes', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url, {}, { nonDestructive: true })));
    const tools = (await client.listTools()).tools;
    for (const name of ['resources_scale', 'resources_patch', 'resources_create_or_update']) expect(tools.find((t) => t.name === name)?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(tools.map((t) => t.name)).not.toContain('resources_delete');
    await close();
  });

  it('refuses a delete the listing hid when the handler is called directly, and sends nothing', async () => {
    const deps = testDeps(testConfig(api.url, {}, { nonDestructive: true }));
    const res = await callTool(deps, { identity: { kind: 'bearer', token: 't' } }, deps.registry.get('pods_delete')!, { name: 'web', namespace: 'team-a', dryRun: false }, new AbortController().signal);
    expect(res.isError).toBe(true);
    expect(text(res)).toBe('cluster test is non-destructive: pods_delete is destructive');
    expect(writes()).toEqual([]);
  });

  it('refuses a scale to 0 and sends nothing, but scales to 3 and dry-runs a scale to 0', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url, {}, { nonDestructive: true })));
    const zero = await client.callTool({ name: 'resources_scale', arguments: { name: 'web', namespace: 'team-a', replicas: 0 } });
    expect(zero.isError).toBe(true);
    expect(text(zero)).toBe('cluster test is non-destructive: this resources_scale call scales Deployment/web to 0 replicas, which stops every pod. Nothing was changed');
    expect(writes()).toEqual([]);
    expect((await client.callTool({ name: 'resources_scale', arguments: { name: 'web', namespace: 'team-a', replicas: 0, dryRun: true } })).isError).toBeFalsy();
    const three = await client.callTool({ name: 'resources_scale', arguments: { name: 'web', namespace: 'team-a', replicas: 3 } });
    expect(text(three)).toContain('scaled from 2 to 3');
    expect(writes()).toHaveLength(1);
    await close();
  });

  it('refuses a patch whose dry run removes a field, naming the field, and lets one that only adds through', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url, {}, { nonDestructive: true })));
    const remove = await client.callTool({ name: 'resources_patch', arguments: { kind: 'Deployment', name: 'web', namespace: 'team-a', patch: { metadata: { labels: { tier: null } } } } });
    expect(remove.isError).toBe(true);
    expect(text(remove)).toBe('cluster test is non-destructive: this resources_patch call removes metadata.labels.tier. Nothing was changed');
    expect(writes()).toEqual([]);
    const add = await client.callTool({ name: 'resources_patch', arguments: { kind: 'Deployment', name: 'web', namespace: 'team-a', patch: { metadata: { labels: { extra: 'x' } } } } });
    expect(add.isError).toBeFalsy();
    expect(writes()).toHaveLength(1);
    await close();
  });

  it('re-checks per cluster: a tool listed because another cluster allows it is refused on the non-destructive one', async () => {
    const config = parseWorkerConfig({
      clusters: [
        { name: 'careful', server: api.url, identity: 'bearer', policy: { nonDestructive: true } },
        { name: 'lab', server: api.url, identity: 'bearer' },
      ],
    });
    const { client, close } = await connectInMemory(testDeps(config));
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('resources_delete');
    const res = await client.callTool({ name: 'resources_delete', arguments: { cluster: 'careful', kind: 'Pod', name: 'web', namespace: 'team-a' } });
    expect(res.isError).toBe(true);
    expect(text(res)).toBe('cluster careful is non-destructive: resources_delete is destructive');
    const zero = await client.callTool({ name: 'resources_scale', arguments: { cluster: 'careful', name: 'web', namespace: 'team-a', replicas: 0 } });
    expect(zero.isError).toBe(true);
    expect(writes()).toEqual([]);
    await close();
  });
});
