import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApiserver, type FakeApiserver } from '../../testing/fake-apiserver.js';
import { connectInMemory, testConfig, testDeps } from '../../testing/harness.js';

type Rows = Array<Record<string, string>>;
const now = new Date().toISOString();

function pod(name: string, problem?: 'crash' | 'notready') {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'shop', labels: { app: 'web', tier: name.endsWith('0') ? 'a' : 'b' }, creationTimestamp: now },
    spec: { nodeName: 'n1', containers: [{ name: 'app', image: `web:${name}` }] },
    status: {
      phase: 'Running',
      podIP: '10.0.0.1',
      conditions: [{ type: 'Ready', status: problem ? 'False' : 'True' }],
      containerStatuses: [{ name: 'app', ready: !problem, restartCount: problem === 'crash' ? 4 : 0, state: problem === 'crash' ? { waiting: { reason: 'CrashLoopBackOff' } } : { running: {} } }],
    },
  };
}

/** 7 pods in pages of the asked size; p1, p4 and p5 crash-loop, p6 is not Ready. */
const PODS = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map((n) => pod(n, n === 'p6' ? 'notready' : ['p1', 'p4', 'p5'].includes(n) ? 'crash' : undefined));

function table(items: typeof PODS, cont: string | undefined, withObject: string | null) {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: cont ? { continue: cont } : {},
    columnDefinitions: [
      { name: 'Name', type: 'string', priority: 0 },
      { name: 'Ready', type: 'string', priority: 0 },
      { name: 'IP', type: 'string', priority: 1 },
      { name: 'Node', type: 'string', priority: 1 },
    ],
    rows: items.map((p) => ({
      cells: [p.metadata.name, p.status.containerStatuses[0]!.ready ? '1/1' : '0/1', p.status.podIP, p.spec.nodeName],
      ...(withObject === 'Object' ? { object: p } : withObject === 'Metadata' ? { object: { metadata: p.metadata } } : {}),
    })),
  };
}

let api: FakeApiserver;
beforeAll(async () => {
  api = await startFakeApiserver((req) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api/v1/namespaces/calm/pods') return { status: 200, body: table([PODS[0]!, PODS[2]!], undefined, url.searchParams.get('includeObject')) };
    if (url.pathname !== '/api/v1/namespaces/shop/pods') return undefined;
    const limit = Number(url.searchParams.get('limit') ?? 500);
    const from = Number(url.searchParams.get('continue') ?? 0);
    const items = PODS.slice(from, from + limit);
    const next = from + limit < PODS.length ? String(from + limit) : undefined;
    return { status: 200, body: table(items, next, url.searchParams.get('includeObject')) };
  });
});
afterAll(() => api.close());

async function call(args: Record<string, unknown>) {
  const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
  const res = await client.callTool({ name: 'pods_list', arguments: { namespace: 'shop', ...args } });
  await close();
  const text = (res.content as Array<{ text: string }>).map((c) => c.text).join('\n');
  return { res, text, rows: (res.structuredContent as { rows?: Rows } | undefined)?.rows ?? [] };
}

describe('pods_list views', () => {
  it('wide adds the IP and node columns, in the text and in every row', async () => {
    const { text, rows } = await call({ wide: true, limit: 2 });
    expect(text).toMatch(/NAME\s+READY\s+IP\s+NODE\np0\s+1\/1\s+10\.0\.0\.1\s+n1/);
    expect(rows[0]).toEqual({ name: 'p0', ready: '1/1', ip: '10.0.0.1', node: 'n1' });
    expect((await call({ limit: 1 })).rows[0]).toEqual({ name: 'p0', ready: '1/1' });
  });

  it('showLabels adds a LABELS column; fields shows only name and the fields asked for', async () => {
    const labels = await call({ showLabels: true, limit: 1 });
    expect(labels.text).toMatch(/LABELS\np0\s+1\/1\s+app=web,tier=a/);
    expect(labels.rows[0]).toMatchObject({ labels: 'app=web,tier=a' });
    const f = await call({ fields: ['.spec.containers[*].image', '.metadata.labels.tier'], limit: 2 });
    expect(f.text).toMatch(/^NAME\s+\.spec\.containers\[\*\]\.image\s+\.metadata\.labels\.tier\np0\s+web:p0\s+a\np1\s+web:p1\s+b/m);
    expect(f.rows[1]).toEqual({ name: 'p1', '.spec.containers[*].image': 'web:p1', '.metadata.labels.tier': 'b' });
  });

  it('a bad field path is an isError result naming the field, not a protocol error', async () => {
    const { res, text } = await call({ fields: ['.metadata.name', '.spec.containers[?(@.name=="x")]'] });
    expect(res.isError).toBe(true);
    expect(text).toMatch(/fields\.1: ".*" has \[\?\(@\.name=="x"\)\] at position 17; only \[\*\], \[N\] and \['key'\] are supported/);
  });

  it('a field path longer than a column anyone reads is refused before it can fill the output budget', async () => {
    const long = '.metadata.labels.' + 'a'.repeat(100_000);
    const { res, text } = await call({ fields: [long] });
    expect(res.isError).toBe(true);
    expect(text).toMatch(/fields\.0: is longer than 256 characters/);
    expect(text.length).toBeLessThan(2_000);
  });

  it('the column options are refused with YAML formats instead of being ignored', async () => {
    const { res, text } = await call({ wide: true, format: 'normal' });
    expect(res.isError).toBe(true);
    expect(text).toContain('wide: only for format="summary"');
  });
});

describe('pods_list unhealthy', () => {
  it('keeps only pods with a problem, says why, and resumes exactly where the limit stopped', async () => {
    const first = await call({ unhealthy: true, limit: 2 });
    expect(first.rows.map((r) => [r.name, r.problem])).toEqual([['p1', 'app: CrashLoopBackOff; not Ready'], ['p4', 'app: CrashLoopBackOff; not Ready']]);
    expect(first.text).toMatch(/# 2 unhealthy pods among the 5 pods read in namespace shop; more pods remain/);
    const cont = (first.res.structuredContent as { continue: string; podsRead: number }).continue;
    expect((first.res.structuredContent as { podsRead: number }).podsRead).toBe(5);
    const second = await call({ unhealthy: true, limit: 2, continue: cont });
    expect(second.rows.map((r) => r.name)).toEqual(['p5', 'p6']);
    expect(second.rows[1]!.problem).toBe('not Ready');
    expect((second.res.structuredContent as { continue?: string }).continue).toBeUndefined();
  });

  it('its continue token is refused, with the fix, by a plain list', async () => {
    const first = await call({ unhealthy: true, limit: 1 });
    const cont = (first.res.structuredContent as { continue: string }).continue;
    const { res, text } = await call({ continue: cont });
    expect(res.isError).toBe(true);
    expect(text).toContain('pass unhealthy=true');
  });

  it('says so when no pod is unhealthy, and works with YAML', async () => {
    const none = await call({ unhealthy: true, namespace: 'calm' });
    expect(none.text).toBe('No unhealthy pods among the 2 pods read in namespace calm.');
    expect(none.rows).toEqual([]);
    const yaml = await call({ unhealthy: true, format: 'normal', limit: 1 });
    expect(yaml.text).toContain('reason: CrashLoopBackOff');
    expect(yaml.rows[0]).toEqual({ namespace: 'shop', name: 'p1', problem: 'app: CrashLoopBackOff; not Ready' });
  });
});
