import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISCOVERY_APIS, DISCOVERY_CORE, startFakeApiserver, type FakeApiserver } from './testing/fake-apiserver.js';
import { connectInMemory, testConfig, testDeps } from './testing/harness.js';
import { toolDefinition } from './server.js';
import { ALL_TOOLS } from './tools/index.js';

let api: FakeApiserver;

beforeAll(async () => {
  api = await startFakeApiserver((req) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api') return { status: 200, body: DISCOVERY_CORE };
    if (url.pathname === '/apis') return { status: 200, body: DISCOVERY_APIS };
    if (url.pathname === '/api/v1/namespaces/team-a/secrets/db' && req.method === 'GET')
      return {
        status: 200,
        body: { metadata: { name: 'db', namespace: 'team-a', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"password":"aHVudGVyMg=="}}' } }, data: { password: 'aHVudGVyMg==' }, type: 'Opaque' },
      };
    if (url.pathname === '/api/v1/namespaces/team-a/secrets' && req.method === 'GET')
      return { status: 200, body: { kind: 'SecretList', metadata: {}, items: [{ metadata: { name: 'db', namespace: 'team-a' }, data: { password: 'aHVudGVyMg==' } }] } };
    if (url.pathname === '/api/v1/namespaces/team-a/pods/web' && req.method === 'DELETE')
      return { status: 403, body: { kind: 'Status', reason: 'Forbidden', code: 403, message: 'pods "web" is forbidden: User "oidc:bob" cannot delete resource "pods" in API group "" in the namespace "team-a"' } };
    if (url.pathname === '/api/v1/namespaces/big/pods')
      return {
        status: 200,
        body: { kind: 'PodList', metadata: { continue: 'next-page' }, items: Array.from({ length: 200 }, (_, i) => ({ metadata: { name: `pod-${i}`, namespace: 'big', labels: { app: 'x'.repeat(100) } }, spec: { nodeName: 'n1' } })) },
      };
    if (url.pathname === '/api/v1/namespaces/team-a/pods/expired') return { status: 401, body: { kind: 'Status', reason: 'Unauthorized', code: 401, message: 'Unauthorized' } };
    return undefined;
  });
});
afterAll(() => api.close());

describe('tools/list', () => {
  it('matches the snapshot of every tool, its schema and annotations', async () => {
    await expect(JSON.stringify(ALL_TOOLS.map(toolDefinition), null, 2) + '\n').toMatchFileSnapshot('./testdata/tools-list.json');
  });

  it('lists every tool in read-write mode', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(ALL_TOOLS.map((t) => t.name).sort());
    expect(tools).toHaveLength(ALL_TOOLS.length);
    await close();
  });

  it('hides every write tool in read-only mode', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url, {}, { readOnly: true })));
    const { tools } = await client.listTools();
    expect(tools.length).toBeGreaterThan(10);
    expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
    expect(tools.map((t) => t.name)).not.toContain('resources_delete');
    await close();
  });

  it('hides destructive tools in non-destructive mode but keeps other writes', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url, {}, { nonDestructive: true })));
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).not.toContain('resources_delete');
    expect(names).not.toContain('pods_delete');
    expect(names).toContain('resources_scale');
    await close();
  });

  it('applies tool allow and deny lists', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url, {}, { tools: { allow: ['pods_list', 'pods_log'], deny: ['pods_log'] } })));
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['pods_list']);
    await close();
  });

  it('gives every write tool a dryRun argument', () => {
    for (const t of ALL_TOOLS.filter((x) => !x.annotations.readOnlyHint)) expect(Object.keys(t.input.shape)).toContain('dryRun');
  });
});

describe('tools/call', () => {
  it('answers bad arguments with an isError result naming the field and the fix (SEP-1303), not a JSON-RPC error', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const missing = await client.callTool({ name: 'pods_get', arguments: { namespace: 'team-a' } });
    expect(missing.isError).toBe(true);
    expect(JSON.stringify(missing.content)).toContain('Invalid arguments for pods_get: name: required (name: Object name (metadata.name).). Fix the named argument(s) and call pods_get again.');
    const big = await client.callTool({ name: 'pods_list', arguments: { limit: 5000 } });
    expect(big.isError).toBe(true);
    expect(JSON.stringify(big.content)).toMatch(/limit: Too big: expected number to be <=1000 \(limit: Maximum items to return \(1-1000/);
    const wrongType = await client.callTool({ name: 'pods_exec', arguments: { name: 'p', command: 'ls -l' } });
    expect(wrongType.isError).toBe(true);
    expect(JSON.stringify(wrongType.content)).toContain('command: Invalid input: expected array, received string');
    await close();
  });

  it('keeps a JSON-RPC invalid-params error for an unknown tool', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    await expect(client.callTool({ name: 'no_such_tool', arguments: {} })).rejects.toMatchObject({ code: -32602 });
    await close();
  });

  it('turns a Kubernetes Forbidden into an isError result with the reason', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'pods_delete', arguments: { name: 'web', namespace: 'team-a' } });
    expect(res.isError).toBe(true);
    expect(JSON.stringify(res.content)).toContain('Forbidden: pods \\"web\\" is forbidden: User \\"oidc:bob\\" cannot delete');
    await close();
  });

  it('masks Secret values in get, including the last-applied annotation', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'resources_get', arguments: { kind: 'secret', name: 'db', namespace: 'team-a', format: 'full' } });
    const text = (res.content as Array<{ text: string }>)[0]!.text;
    expect(text).toContain("password: '***'");
    expect(text).toContain("kubectl.kubernetes.io/last-applied-configuration: '***'");
    expect(JSON.stringify(res)).not.toContain('aHVudGVyMg');
    await close();
  });

  it('masks Secret values in lists even though list items carry no kind', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'resources_list', arguments: { kind: 'secrets', namespace: 'team-a', format: 'full' } });
    expect(JSON.stringify(res)).not.toContain('aHVudGVyMg');
    expect(JSON.stringify(res)).toContain('password');
    await close();
  });

  it('reveals one Secret through resources_get only when the cluster policy names it', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url, {}, { revealSecrets: ['team-a/db'] })));
    const got = await client.callTool({ name: 'resources_get', arguments: { kind: 'Secret', name: 'db', namespace: 'team-a' } });
    expect(JSON.stringify(got)).toContain('aHVudGVyMg');
    const listed = await client.callTool({ name: 'resources_list', arguments: { kind: 'secrets', namespace: 'team-a', format: 'normal' } });
    expect(JSON.stringify(listed)).not.toContain('aHVudGVyMg');
    await close();
  });

  it('refuses a write on a read-only cluster even when called by name', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url, {}, { readOnly: true })));
    await expect(client.callTool({ name: 'pods_delete', arguments: { name: 'web', namespace: 'team-a' } })).rejects.toThrow(/pods_delete/);
    await close();
  });

  it('refuses a denied kind', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url, {}, { kinds: { deny: ['Secret'] } })));
    const res = await client.callTool({ name: 'resources_get', arguments: { kind: 'secrets', name: 'db', namespace: 'team-a' } });
    expect(res.isError).toBe(true);
    expect(JSON.stringify(res.content)).toContain('kind Secret is denied');
    await close();
  });

  it('records an apiserver 401 so the HTTP edge can answer 401', async () => {
    const { client, state, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'pods_get', arguments: { name: 'expired', namespace: 'team-a' } });
    expect(res.isError).toBe(true);
    expect(state.unauthorizedCluster).toBe('test');
    await close();
  });

  it('names the cluster when its apiserver is unreachable', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig('http://127.0.0.1:1')));
    const res = await client.callTool({ name: 'pods_list', arguments: {} });
    expect(res.isError).toBe(true);
    expect(JSON.stringify(res.content)).toContain('cluster test is unreachable');
    await close();
  });

  it('cuts a YAML page at a whole item and says how to rerun without skipping any', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url, { byteBudget: 1024 })));
    const res = await client.callTool({ name: 'pods_list', arguments: { namespace: 'big', format: 'normal', limit: 200 } });
    const text = (res.content as Array<{ text: string }>)[0]!.text;
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1024);
    const m = /\[cut at a whole item by this worker's 1024-byte budget: (\d+) of 200 pods shown\. To page without skipping any, rerun with limit=(\d+) and no continue; this page's continue token would skip the (\d+) not shown\./.exec(text);
    expect(m).not.toBeNull();
    const k = Number(m![1]);
    expect(k).toBeGreaterThan(0);
    expect(Number(m![2])).toBe(k);
    expect(Number(m![3])).toBe(200 - k);
    // Exactly the first k items, each whole (the last one shown is followed by the marker, not cut inside).
    const names = [...text.matchAll(/^ {4}name: (pod-\d+)$/gm)].map((x) => x[1]);
    expect(names).toEqual(Array.from({ length: k }, (_, i) => `pod-${i}`));
    expect(text).not.toContain('next-page');
    expect(res.structuredContent).toMatchObject({ kind: 'Pod', count: k, cut: { shown: k, of: 200, rerun: { limit: k } } });
    expect(res.structuredContent).not.toHaveProperty('continue');
    expect((res.structuredContent as { rows: unknown[] }).rows).toHaveLength(k);
    await close();
  });

  it('returns the rows of a list in structuredContent under the declared outputSchema', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'pods_list', arguments: { namespace: 'big', format: 'normal', limit: 200 } });
    expect(res.structuredContent).toMatchObject({ kind: 'Pod', count: 200, continue: 'next-page' });
    expect((res.structuredContent as { rows: unknown[] }).rows[3]).toEqual({ namespace: 'big', name: 'pod-3' });
    await close();
  });
});
