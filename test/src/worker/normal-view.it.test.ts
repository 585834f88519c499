// The `normal` view against real objects: 24 shapes created on the stack's apiserver, read back
// through resources_get in `normal` and `full`, compared field by field (normal may only leave out
// what the apiserver filled in), and rendered into golden files (testdata/normal/*.yaml).
import type { Client } from '@modelcontextprotocol/client';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { adminRest, aliceOnStackWorker, type AliceSession, ensure, ensureNamespace, nodeNames, textOf, waitFor } from './helpers.js';
import { shapes, SHAPES_NS, type Shape } from './shapes.js';

let env: StackEnv;
let session: AliceSession | undefined;
let alice: Client;
let all: Shape[];
const rendered = new Map<string, { normal: unknown; full: unknown }>();

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

beforeAll(async () => {
  env = loadStackEnv();
  const admin = adminRest(env);
  await ensureNamespace(admin, SHAPES_NS);
  const [node] = await nodeNames(admin);
  all = shapes(node!);
  for (const s of all) await ensure(admin, s.path, s.body);
  for (const s of all.filter((x) => x.kind === 'Pod')) {
    await waitFor(`pod ${s.name} Running`, async () => (await admin.get<{ status?: { phase?: string } }>(`${s.path}/${s.name}`)).status?.phase === 'Running');
  }
  // This suite's own worker, built from this checkout, so it tests this code whatever the stack's replicas run.
  session = await aliceOnStackWorker(env);
  alice = session.alice;
  for (const s of all) {
    const get = async (format: string) => {
      const res = await alice.callTool({ name: 'resources_get', arguments: { kind: s.kind, apiVersion: s.apiVersion, name: s.name, namespace: s.namespaced ? SHAPES_NS : undefined, format } });
      if (res.isError) throw new Error(`${s.id} ${format}: ${textOf(res)}`);
      return yaml.load(textOf(res));
    };
    rendered.set(s.id, { normal: await get('normal'), full: await get('full') });
  }
}, 300_000);

afterAll(async () => {
  await session?.stop();
});

const isObj = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Pruned {
  path: string;
  key: string;
  value: Json;
  parent: Record<string, Json>;
}

/** Walks full and normal together: returns what normal left out, and every value normal changed or added. */
function compare(full: Json, normal: Json | undefined, path: string, pruned: Pruned[], changed: string[], parent: Record<string, Json> = {}, key = ''): void {
  if (normal === undefined) {
    pruned.push({ path, key, value: full, parent });
    return;
  }
  if (isObj(full) && isObj(normal)) {
    for (const k of Object.keys(normal)) if (!(k in full)) changed.push(`${path}.${k} added`);
    for (const [k, v] of Object.entries(full)) compare(v, normal[k], `${path}.${k}`, pruned, changed, full, k);
    return;
  }
  if (Array.isArray(full) && Array.isArray(normal)) {
    if (normal.length > full.length) changed.push(`${path} grew`);
    full.forEach((v, i) => compare(v, normal[i], `${path}[${i}]`, pruned, changed, parent, key));
    return;
  }
  if (JSON.stringify(full) !== JSON.stringify(normal)) changed.push(`${path}: ${JSON.stringify(full)} became ${JSON.stringify(normal)}`);
}

const DEFAULTS: Record<string, Json> = {
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
  restartPolicy: 'Always',
  terminationGracePeriodSeconds: 30,
  dnsPolicy: 'ClusterFirst',
  schedulerName: 'default-scheduler',
  priority: 0,
  enableServiceLinks: true,
  preemptionPolicy: 'PreemptLowerPriority',
  progressDeadlineSeconds: 600,
  revisionHistoryLimit: 10,
  protocol: 'TCP',
};
/** Structs the apiserver always serialises, empty when nobody set them. */
const ALWAYS_SERIALISED_EMPTY = /(\.resources|Statuses\[\d+\]\.lastState|\.spec\.securityContext|\.template\.spec\.securityContext|^\.status|\.status\.loadBalancer|\.template\.metadata|\.jobTemplate\.metadata)$/;

/** Why `normal` may leave this out, or undefined when it may not. */
function justification(p: Pruned): string | undefined {
  if (/^\.metadata\.(managedFields|resourceVersion)$/.test(p.path)) return 'bookkeeping';
  if (p.path === '.metadata.annotations.kubectl.kubernetes.io/last-applied-configuration') return 'bookkeeping';
  if (p.value === null && /(Timestamp|Time)$/.test(p.key)) return 'zero timestamp';
  if (isObj(p.value) && !Object.keys(p.value).length && ALWAYS_SERIALISED_EMPTY.test(p.path)) return 'always-serialised empty struct';
  if (p.key in DEFAULTS && JSON.stringify(DEFAULTS[p.key]) === JSON.stringify(p.value)) return 'default';
  if (p.key === 'imagePullPolicy') {
    const image = String(p.parent.image ?? '');
    const tag = /:([^/:]+)$/.exec(image)?.[1];
    return p.value === (!tag || tag === 'latest' ? 'Always' : 'IfNotPresent') ? 'default' : undefined;
  }
  if (p.key === 'serviceAccount' && p.value === p.parent.serviceAccountName) return 'duplicate of serviceAccountName';
  if ((p.key === 'podIPs' || p.key === 'hostIPs') && Array.isArray(p.value) && p.value.length === 1) return 'repeats the single IP';
  if (p.key === 'strategy' && isObj(p.value) && p.value.type === 'RollingUpdate' && isObj(p.value.rollingUpdate) && p.value.rollingUpdate.maxSurge === '25%' && p.value.rollingUpdate.maxUnavailable === '25%' && Object.keys(p.value).length === 2)
    return 'default';
  // A struct left out as a whole because everything in it may be left out (status: {loadBalancer: {}}).
  if (isObj(p.value) && Object.keys(p.value).length && Object.entries(p.value).every(([k, v]) => justification({ path: `${p.path}.${k}`, key: k, value: v, parent: p.value as Record<string, Json> })))
    return 'only left-out fields';
  if (p.key === 'tolerations' && isObj(p.value) && ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'].includes(String(p.value.key)) && p.value.tolerationSeconds === 300) return 'admission default';
  if (p.key === 'tolerations' && Array.isArray(p.value) && p.value.every((t) => isObj(t) && t.tolerationSeconds === 300)) return 'admission default';
  return undefined;
}

describe('normal view fidelity on real objects', () => {
  it('renders at least 20 real object shapes', () => {
    expect(rendered.size).toBeGreaterThanOrEqual(20);
  });

  it('leaves out only what the apiserver filled in, and changes no value', () => {
    const problems: string[] = [];
    for (const [id, { normal, full }] of rendered) {
      const pruned: Pruned[] = [];
      const changed: string[] = [];
      compare(full as Json, normal as Json, '', pruned, changed);
      problems.push(...changed.map((c) => `${id}: ${c}`));
      for (const p of pruned) if (!justification(p)) problems.push(`${id}: ${p.path} = ${JSON.stringify(p.value)} was left out`);
    }
    expect(problems).toEqual([]);
  });

  it('keeps an allow-all NetworkPolicy allow-all and an empty namespaceSelector', () => {
    const allow = rendered.get('networkpolicy-allow-all')!.normal as { spec: Record<string, unknown> };
    expect(allow.spec.podSelector).toEqual({});
    expect(allow.spec.ingress).toEqual([{}]);
    expect(allow.spec.egress).toEqual([{ to: [{ namespaceSelector: {} }] }]);
    const from = rendered.get('networkpolicy-from-namespaces')!.normal as { spec: { ingress: Array<{ from: unknown[] }> } };
    expect(from.spec.ingress[0]!.from[0]).toEqual({ namespaceSelector: {} });
    expect((rendered.get('pdb-selector-all')!.normal as { spec: { selector: unknown } }).spec.selector).toEqual({});
  });

  it('keeps emptyDir {}, empty-string args and env values, and empty label values', () => {
    const pod = rendered.get('pod-emptydir-args')!.normal as { metadata: { labels: Record<string, string> }; spec: { volumes: unknown[]; containers: Array<{ args: string[]; env: unknown[] }> } };
    expect(pod.spec.volumes).toEqual([{ name: 'scratch', emptyDir: {} }]);
    expect(pod.spec.containers[0]!.args).toEqual(['--flag=', '']);
    // The apiserver itself omits an empty env value; normal shows the env exactly as stored.
    const full = rendered.get('pod-emptydir-args')!.full as typeof pod;
    expect(pod.spec.containers[0]!.env).toEqual(full.spec.containers[0]!.env);
    expect(pod.metadata.labels.empty).toBe('');
  });

  it('keeps metadata.generation next to status.observedGeneration', () => {
    const d = rendered.get('deployment')!;
    expect((d.normal as { metadata: { generation: number } }).metadata.generation).toBe((d.full as { metadata: { generation: number } }).metadata.generation);
  });

  it('keeps a pull policy that differs from the tag default, and a non-TCP port protocol', () => {
    const c = (rendered.get('pod-probes-resources')!.normal as { spec: { containers: Array<Record<string, unknown>> } }).spec.containers[0]!;
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.ports).toEqual([{ containerPort: 8080, protocol: 'UDP' }]);
  });

  it('never shows a Secret value', () => {
    const text = JSON.stringify([...rendered.values()]);
    expect(text).not.toContain('shape-secret-value');
    expect(text).not.toContain(Buffer.from('shape-secret-value').toString('base64'));
  });
});

const VOLATILE = new Set(['uid', 'creationTimestamp', 'resourceVersion', 'clusterIP', 'clusterIPs', 'podIP', 'podIPs', 'hostIP', 'hostIPs', 'startTime', 'lastTransitionTime', 'lastProbeTime', 'startedAt', 'finishedAt', 'containerID', 'imageID', 'nodeName', 'renewTime', 'acquireTime',
  // The Job controller labels a Job and its template with the Job's uid.
  'batch.kubernetes.io/controller-uid', 'controller-uid']);

/** Replaces what differs between runs (ids, times, IPs, the node) so the rendering can be a golden file. */
function stable(v: unknown, key = ''): unknown {
  if (VOLATILE.has(key)) return `<${key}>`;
  if (Array.isArray(v)) return v.map((x) => stable(x, key));
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, stable(x, k)]));
  return v;
}

describe('normal view golden files', () => {
  it.each(Array.from({ length: 24 }, (_, i) => i))('shape %i renders as its golden file', async (i) => {
    const s = all[i];
    if (!s) return;
    const text = yaml.dump(stable(rendered.get(s.id)!.normal), { lineWidth: -1, noRefs: true, noArrayIndent: true });
    await expect(`# ${s.apiVersion} ${s.kind}: resources_get format=normal (ids, times, IPs and the node replaced)\n${text}`).toMatchFileSnapshot(`testdata/normal/${s.id}.yaml`);
  });
});
