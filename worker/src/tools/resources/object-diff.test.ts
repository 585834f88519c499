import { describe, expect, it } from 'vitest';
import { destructiveChanges, diffLines, diffObjects } from './object-diff.js';

const deployment = (over: { replicas?: number; image?: string; sidecar?: boolean; labels?: Record<string, string> } = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'a', resourceVersion: String(Math.random()), generation: 3, labels: over.labels ?? { app: 'web' }, managedFields: [{ manager: 'x' }] },
  spec: {
    replicas: over.replicas ?? 2,
    template: {
      spec: {
        restartPolicy: 'Always',
        containers: [
          { name: 'app', image: over.image ?? 'app:1', terminationMessagePath: '/dev/termination-log' },
          ...(over.sidecar ? [{ name: 'proxy', image: 'proxy:1', terminationMessagePath: '/dev/termination-log' }] : []),
        ],
      },
    },
  },
  status: { replicas: 2 },
});

describe('diffObjects', () => {
  it('reports changed, added and removed fields by readable path, not bookkeeping', () => {
    const changes = diffObjects(deployment({ sidecar: true }), deployment({ replicas: 3, image: 'app:2', labels: { app: 'web', 'app.kubernetes.io/part-of': 'shop' } }));
    expect(diffLines(changes)).toEqual([
      '  + metadata.labels["app.kubernetes.io/part-of"]: "shop"',
      '  ~ spec.replicas: 2 → 3',
      '  ~ spec.template.spec.containers[app].image: "app:1" → "app:2"',
      '  - spec.template.spec.containers[proxy]: {"name":"proxy","image":"proxy:1"}',
    ]);
  });

  it('keys named list items by name, so a reorder is no change', () => {
    const a = deployment({ sidecar: true });
    const b = structuredClone(a);
    b.spec.template.spec.containers.reverse();
    expect(diffObjects(a, b)).toEqual([]);
  });

  it('shows no line for what the apiserver defaults on a new object', () => {
    const lines = diffLines(diffObjects(undefined, deployment()));
    expect(lines).toContain('  + spec.template.spec.containers[app].image: "app:1"');
    expect(lines.join('\n')).not.toMatch(/terminationMessagePath|restartPolicy|resourceVersion|status/);
  });

  it('reports a Secret value without either value, and a new key masked', () => {
    const secret = (data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data });
    const lines = diffLines(diffObjects(secret({ password: 'b2xk' }), secret({ password: 'bmV3', token: 'dG9r' })));
    expect(lines).toEqual(['  ~ data.password: (Secret value, not shown) → (not compared: Secret values are never compared)', '  + data.token: "***"']);
    expect(lines.join()).not.toMatch(/b2xk|bmV3|dG9r/);
  });

  it('never compares Secret values: an unchanged value reads exactly like a changed one (no guessing oracle)', () => {
    const secret = (password: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { password } });
    expect(diffObjects(secret('b2xk'), secret('b2xk'))).toEqual(diffObjects(secret('b2xk'), secret('bmV3')));
  });

  it('keeps meaningful empty values: emptying a selector removes its labels, setting one is an addition', () => {
    const np = (podSelector: unknown) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'n' }, spec: { podSelector } });
    expect(diffLines(diffObjects(np({ matchLabels: { app: 'x' } }), np({})))).toEqual(['  - spec.podSelector.matchLabels.app: "x"']);
    expect(diffLines(diffObjects(np({}), np({ matchLabels: { app: 'x' } })))).toEqual(['  + spec.podSelector.matchLabels.app: "x"']);
    expect(diffLines(diffObjects({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'n' }, spec: {} }, np({})))).toEqual(['  + spec.podSelector: {}']);
  });

  it('caps the lines and says how many more', () => {
    const cm = (n: number) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v'])) });
    const lines = diffLines(diffObjects(cm(0), cm(50)), 10);
    expect(lines).toHaveLength(11);
    expect(lines[10]).toBe('  ... and 40 more changes');
    expect(destructiveChanges(diffObjects(cm(0), cm(50)))).toEqual([]);
  });
});

describe('destructiveChanges', () => {
  it('names removals and a scale to 0, not changes or additions', () => {
    expect(destructiveChanges(diffObjects(deployment({ sidecar: true }), deployment({ replicas: 0, image: 'app:2' })))).toEqual([
      'sets spec.replicas to 0 (stops every pod)',
      'removes spec.template.spec.containers[proxy]',
    ]);
    expect(destructiveChanges(diffObjects(deployment(), deployment({ replicas: 5, sidecar: true })))).toEqual([]);
  });
});
