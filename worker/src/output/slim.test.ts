import { describe, expect, it } from 'vitest';
import { slimObject } from './format.js';

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', resourceVersion: '7', generation: 1, labels: { app: 'x', empty: '' }, managedFields: [{ manager: 'kubectl' }] },
  spec: {
    containers: [{ name: 'app', image: 'img', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent', resources: {}, ports: [{ containerPort: 80, protocol: 'TCP' }], volumeMounts: [{ name: 'kube-api-access-abcde', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }] }],
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
  it('drops defaults, empties, the injected token volume and bookkeeping, and keeps what the object says', () => {
    expect(slimObject(pod, 'normal')).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns', labels: { app: 'x', empty: '' } },
      spec: {
        containers: [{ name: 'app', image: 'img', ports: [{ containerPort: 80 }] }],
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }],
        serviceAccountName: 'default',
      },
      status: { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
    });
  });

  it('keeps non-default values', () => {
    const custom = { ...pod, spec: { ...pod.spec, restartPolicy: 'Never', containers: [{ name: 'a', image: 'i', imagePullPolicy: 'Always' }] } };
    const out = slimObject(custom, 'normal') as typeof custom;
    expect(out.spec.restartPolicy).toBe('Never');
    expect(out.spec.containers[0]!.imagePullPolicy).toBe('Always');
  });

  it('keeps empty values inside ConfigMap data', () => {
    expect(slimObject({ kind: 'ConfigMap', metadata: { name: 'c' }, data: { flag: '' } }, 'normal')).toEqual({ kind: 'ConfigMap', metadata: { name: 'c' }, data: { flag: '' } });
  });

  it('leaves full detail untouched', () => {
    expect(slimObject(pod, 'full')).toBe(pod);
  });
});
