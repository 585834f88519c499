import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorFromResponse, KubeApiError, ToolRefusal } from '../../k8s/errors.js';
import { parseWarning } from '../../k8s/warnings.js';
import { explainConflict } from './apply-conflict.js';
import { parseManifest } from './apply.js';
import { readiness } from './apply-wait.js';
import { DISCOVERY_APIS, DISCOVERY_CORE, startFakeApiserver, type FakeApiserver } from '../../testing/fake-apiserver.js';
import { connectInMemory, testConfig, testDeps } from '../../testing/harness.js';

const CORE_WITH_CM = structuredClone(DISCOVERY_CORE);
CORE_WITH_CM.items[0]!.versions[0]!.resources.push({ resource: 'configmaps', responseKind: { group: '', version: 'v1', kind: 'ConfigMap' }, scope: 'Namespaced', singularResource: 'configmap', verbs: ['get', 'list', 'patch'] });

const CONFLICT = {
  kind: 'Status', status: 'Failure', reason: 'Conflict', code: 409,
  message: 'Apply failed with 2 conflicts: conflicts with "kubectl-edit" using v1:\n- .data.a\n- .data.b',
  details: { causes: [
    { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-edit" using v1', field: '.data.a' },
    { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-edit" using v1', field: '.data.b' },
    { reason: 'FieldManagerConflict', message: 'conflict with "kube-mcp/oidc:alice" using v1', field: '.data.c' },
  ] },
};

let api: FakeApiserver;
/** Bodies of the PATCHes to configmaps/pinned: [dryRun, body]. */
const pinnedPatches: Array<[string | null, { metadata?: { resourceVersion?: string } }]> = [];
beforeAll(async () => {
  api = await startFakeApiserver((req, body) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api/v1/namespaces/team-a/configmaps/pinned') {
      if (req.method === 'GET') return { status: 200, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'pinned', namespace: 'team-a', resourceVersion: '7' }, data: { a: '0' } } };
      pinnedPatches.push([url.searchParams.get('dryRun'), JSON.parse(body) as { metadata?: { resourceVersion?: string } }]);
      return { status: 200, body: { metadata: { name: 'pinned', namespace: 'team-a', resourceVersion: '8' }, data: { a: '1' } } };
    }
    if (url.pathname === '/api') return { status: 200, body: CORE_WITH_CM };
    if (url.pathname === '/apis') return { status: 200, body: DISCOVERY_APIS };
    if (url.pathname === '/apis/authentication.k8s.io/v1/selfsubjectreviews') return { status: 201, body: { status: { userInfo: { username: 'oidc:bob' } } } };
    if (url.pathname === '/api/v1/namespaces/team-a/configmaps/c' && req.method === 'PATCH')
      return {
        status: 200,
        body: { metadata: { name: 'c', namespace: 'team-a' }, data: { a: '1' } },
        headers: { warning: ['299 - "unknown field \\"dta\\""', '299 - "v1 ConfigMap is fine, this is a test deprecation"'] },
      };
    if (url.pathname === '/api/v1/namespaces/team-a/configmaps/c' && req.method === 'GET') return { status: 200, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'team-a' }, data: { a: '0', gone: 'x' } } };
    if (url.pathname === '/api/v1/namespaces/team-a/configmaps/owned' && req.method === 'PATCH') return { status: 409, body: CONFLICT };
    if (url.pathname === '/api/v1/namespaces/team-a/configmaps/invalid' && req.method === 'PATCH')
      return { status: 422, body: { kind: 'Status', reason: 'Invalid', code: 422, message: 'ConfigMap "invalid" is invalid: metadata.name: Invalid value: "invalid": bad' } };
    if (url.pathname === '/api/v1/namespaces/team-a/configmaps/new' && req.method === 'PATCH') return { status: 201, body: { metadata: { name: 'new', namespace: 'team-a' }, data: { b: '2' } } };
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

const cm = (name: string, extra = '') => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: team-a\n${extra}`;
const textOf = (res: { content?: unknown }) => (res.content as Array<{ text: string }>).map((c) => c.text).join('\n');

describe('apply: conflicts, documents, diff', () => {
  it('does not force by default, and explains a conflict: the owners, the fields, and force', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'resources_create_or_update', arguments: { manifest: cm('owned') } });
    const q = new URL(api.requests.filter((r) => r.method === 'PATCH').at(-1)!.url, 'http://x').searchParams;
    expect(q.get('force')).toBe('false');
    expect(res.isError).toBe(true);
    expect(textOf(res)).toBe(
      'ConfigMap/owned failed: Conflict: the manifest sets 3 fields another field manager owns: "kubectl-edit" owns .data.a, .data.b; "kube-mcp/oidc:alice" owns .data.c. Nothing was changed. To take ownership (your values win and these fields become yours), apply again with force: true; to leave them to their owner, remove them from the manifest.',
    );
    await close();
  });

  it('attempts every document, reports each, and names the one that failed', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'resources_create_or_update', arguments: { manifest: [cm('new'), cm('invalid'), cm('c')].join('---\n') } });
    expect(res.isError).toBe(true);
    const lines = textOf(res).split('\n');
    expect(lines.filter((l) => /^(\[|1 of)/.test(l))).toEqual([
      '1 of 3 objects failed ([2/3] ConfigMap/invalid); the other 2 were applied. Every object is attempted in order, so one failure does not stop the rest; fix the failed one and apply the whole manifest again (apply converges).',
      '[1/3] configmap/new in team-a created',
      '[2/3] configmap/invalid in team-a FAILED: Invalid: ConfigMap "invalid" is invalid: metadata.name: Invalid value: "invalid": bad',
      '[3/3] configmap/c in team-a configured',
    ]);
    expect(res.structuredContent).toMatchObject({
      failed: 1,
      documents: [
        { index: 1, kind: 'ConfigMap', name: 'new', namespace: 'team-a', outcome: 'created' },
        { index: 2, name: 'invalid', outcome: 'failed', error: expect.stringMatching(/^Invalid: /) },
        { index: 3, name: 'c', outcome: 'configured' },
      ],
    });
    await close();
  });

  it('diff compares the live object with a server-side dry run and applies nothing', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const before = api.requests.length;
    const res = await client.callTool({ name: 'resources_create_or_update', arguments: { manifest: cm('c', 'data:\n  a: "1"\n'), diff: true } });
    expect(res.isError).toBeFalsy();
    expect(textOf(res)).toContain('configmap/c in team-a: 2 changes\n  ~ data.a: "0" → "1"\n  - data.gone: "x"');
    const patches = api.requests.slice(before).filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => new URL(r.url, 'http://x').searchParams.get('dryRun'))).toEqual(['All']);
    expect(res.structuredContent).toMatchObject({ documents: [{ outcome: 'diff', changes: 2 }], failed: 0 });
    await close();
  });
});

describe('non-destructive judgement', () => {
  it('pins the apply to the resourceVersion it judged, so a write in between fails it instead of slipping past', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url, {}, { nonDestructive: true })));
    const res = await client.callTool({ name: 'resources_create_or_update', arguments: { manifest: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pinned\n  namespace: team-a\ndata:\n  a: "1"\n' } });
    expect(res.isError, textOf(res)).toBeFalsy();
    expect(pinnedPatches.map(([dryRun, b]) => [dryRun, b.metadata?.resourceVersion])).toEqual([['All', undefined], [null, '7']]);
    await close();
  });
});

describe('conflict causes', () => {
  it('keeps the manager and field of a conflict on a Secret, which name no value, and nothing else', () => {
    const body = JSON.stringify({ ...CONFLICT, details: { causes: [...CONFLICT.details.causes, { reason: 'FieldValueInvalid', message: 'Invalid value: "hunter2"', field: 'data.password' }] } });
    const err = errorFromResponse('c', 409, body, '/api/v1/namespaces/a/secrets/s');
    expect(err.causes).toHaveLength(3);
    expect(JSON.stringify(err.causes)).not.toContain('hunter2');
    expect(explainConflict(err)).toMatch(/^Conflict: the manifest sets 3 fields/);
  });

  it('is not a conflict explanation for other 409s', () => {
    expect(explainConflict(new KubeApiError('c', 409, 'AlreadyExists', 'x'))).toBeUndefined();
  });
});

describe('readiness after apply', () => {
  it('judges workloads, Pods, Jobs and Ready conditions, and has nothing to wait for on a ConfigMap', () => {
    expect(readiness({ kind: 'ConfigMap', metadata: { name: 'c' } })).toBeUndefined();
    expect(readiness({ kind: 'Pod', metadata: { name: 'p' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } })).toMatchObject({ waitFor: 'Ready', done: true });
    expect(readiness({ kind: 'Pod', metadata: { name: 'p' }, status: { phase: 'Pending' } })).toMatchObject({ done: false, message: 'pod "p" is not Ready yet (phase Pending)' });
    expect(readiness({ kind: 'Deployment', metadata: { name: 'd', generation: 2 }, spec: { replicas: 1 }, status: { observedGeneration: 1 } })).toMatchObject({ waitFor: 'rolled out', done: false });
    expect(readiness({ kind: 'Job', metadata: { name: 'j' }, status: { conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] } })).toMatchObject({ failed: true, message: 'job "j" failed (BackoffLimitExceeded)' });
    expect(readiness({ kind: 'Widget', metadata: { name: 'w', generation: 1 }, status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'False', reason: 'Pending' }] } })).toMatchObject({ done: false, message: 'widget "w" is not Ready (Pending)' });
  });
});

describe('manifests built to hurt the parser', () => {
  it('refuses a YAML alias bomb with a tool refusal naming the fix, not an internal error', () => {
    const level = (n: string, prev: string) => `${n}: &${n} [${Array(9).fill(`*${prev}`).join(',')}]`;
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefg'.split('').map((n, i) => level(n, 'abcdefg'[i]!)), 'apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: bomb}'].join('\n');
    expect(() => parseManifest(bomb)).toThrow(new ToolRefusal('manifest document 1 cannot be read: it expands YAML aliases (*name) far beyond any real manifest; write the objects out without aliases'));
  });

  it('refuses runaway nesting by name', () => {
    const deep = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
    expect(() => parseManifest(deep)).toThrow(/nested too deeply/);
  });
});
