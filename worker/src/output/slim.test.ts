import { describe, expect, it } from 'vitest';
import { slimObject } from './format.js';

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', resourceVersion: '7', generation: 1, labels: { app: 'x', empty: '' }, managedFields: [{ manager: 'kubectl' }] },
  spec: {
    containers: [{ name: 'app', image: 'img:1', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent', resources: {}, ports: [{ containerPort: 80, protocol: 'TCP' }], volumeMounts: [{ name: 'kube-api-access-abcde', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }] }],
    restartPolicy: 'Always',
    dnsPolicy: 'ClusterFirst',
    securityContext: {},
    tolerations: [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' },
    ],
    volumes: [{ name: 'kube-api-access-abcde', projected: { sources: [] } }],
    serviceAccountName: 'default',
    serviceAccount: 'default',
  },
  status: { phase: 'Running', podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }], conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null }] },
};

describe('normal detail', () => {
  it('drops defaults, the injected token volume and bookkeeping, and keeps what the object says', () => {
    expect(slimObject(pod, 'normal')).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns', generation: 1, labels: { app: 'x', empty: '' } },
      spec: {
        containers: [{ name: 'app', image: 'img:1', ports: [{ containerPort: 80 }] }],
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }],
        serviceAccountName: 'default',
      },
      status: { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
    });
  });

  it('keeps non-default values, and a pull policy that is not the default for the image tag', () => {
    const custom = { ...pod, spec: { ...pod.spec, restartPolicy: 'Never', containers: [{ name: 'a', image: 'i:1', imagePullPolicy: 'Always' }, { name: 'b', image: 'i', imagePullPolicy: 'IfNotPresent' }, { name: 'c', image: 'i:latest', imagePullPolicy: 'Always' }] } };
    const out = slimObject(custom, 'normal') as typeof custom;
    expect(out.spec.restartPolicy).toBe('Never');
    expect(out.spec.containers.map((c) => c.imagePullPolicy)).toEqual(['Always', 'IfNotPresent', undefined]);
  });

  it('keeps metadata.generation so it can be compared with status.observedGeneration', () => {
    const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', generation: 4 }, spec: {}, status: { observedGeneration: 3 } };
    expect(slimObject(d, 'normal')).toMatchObject({ metadata: { generation: 4 }, status: { observedGeneration: 3 } });
  });

  it('keeps an allow-all NetworkPolicy allow-all: podSelector {}, ingress [{}], namespaceSelector {}', () => {
    const np = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-all', namespace: 'ns' },
      spec: { podSelector: {}, ingress: [{}], egress: [{ to: [{ namespaceSelector: {} }] }], policyTypes: ['Ingress', 'Egress'] },
    };
    expect(slimObject(np, 'normal')).toEqual(np);
  });

  it('keeps emptyDir {} volumes, empty-string args and empty env values', () => {
    const p = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        containers: [{ name: 'a', image: 'i:1', args: ['--flag=', ''], env: [{ name: 'EMPTY', value: '' }], volumeMounts: [{ name: 'scratch', mountPath: '/tmp' }] }],
        volumes: [{ name: 'scratch', emptyDir: {} }],
      },
    };
    expect(slimObject(p, 'normal')).toEqual(p);
  });

  it('keeps empty values inside ConfigMap data', () => {
    expect(slimObject({ kind: 'ConfigMap', metadata: { name: 'c' }, data: { flag: '' } }, 'normal')).toEqual({ kind: 'ConfigMap', metadata: { name: 'c' }, data: { flag: '' } });
  });

  it('keeps a custom resource verbatim apart from bookkeeping', () => {
    const cr = { apiVersion: 'x.io/v1', kind: 'Widget', metadata: { name: 'w', resourceVersion: '1' }, spec: { resources: {}, list: [{}], s: '', n: null } };
    expect(slimObject(cr, 'normal')).toEqual({ apiVersion: 'x.io/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { resources: {}, list: [{}], s: '', n: null } });
  });

  it('leaves full detail untouched', () => {
    expect(slimObject(pod, 'full')).toBe(pod);
  });
});
