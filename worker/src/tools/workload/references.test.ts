import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApiserver, type FakeApiserver } from '../../testing/fake-apiserver.js';
import { connectInMemory, testConfig, testDeps } from '../../testing/harness.js';
import { podSpecReferences, referenceHints, referenceLines, type CheckedReference } from './references.js';

const SPEC = {
  serviceAccountName: 'api',
  imagePullSecrets: [{ name: 'regcred' }],
  initContainers: [{ name: 'init', envFrom: [{ configMapRef: { name: 'settings' } }] }],
  containers: [
    {
      name: 'gw',
      env: [
        { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode', optional: true } } },
        { name: 'PLAIN', value: 'x' },
      ],
      envFrom: [{ secretRef: { name: 'env', optional: true } }],
    },
  ],
  volumes: [
    { name: 'tls', secret: { secretName: 'tls' } },
    { name: 'data', persistentVolumeClaim: { claimName: 'data' } },
    { name: 'bundle', projected: { sources: [{ secret: { name: 'db' } }, { configMap: { name: 'ca' } }, { serviceAccountToken: { path: 't' } }] } },
    { name: 'scratch', emptyDir: {} },
  ],
};

describe('podSpecReferences', () => {
  it('finds every Secret, ConfigMap, PVC and the ServiceAccount with each place it is used', () => {
    expect(podSpecReferences(SPEC)).toEqual([
      { kind: 'Secret', name: 'tls', uses: ['volume tls'], optional: false },
      { kind: 'PersistentVolumeClaim', name: 'data', uses: ['volume data'], optional: false },
      { kind: 'Secret', name: 'db', uses: ['projected volume bundle', 'env DB_PASSWORD (gw)'], optional: false },
      { kind: 'ConfigMap', name: 'ca', uses: ['projected volume bundle'], optional: false },
      // Required by init's envFrom, optional for gw's env: not optional as a whole.
      { kind: 'ConfigMap', name: 'settings', uses: ['envFrom (init)', 'env MODE (gw)'], optional: false },
      { kind: 'Secret', name: 'env', uses: ['envFrom (gw)'], optional: true },
      { kind: 'Secret', name: 'regcred', uses: ['imagePullSecrets'], optional: true },
      { kind: 'ServiceAccount', name: 'api', uses: ['serviceAccountName'], optional: false },
    ]);
  });

  it('names the default ServiceAccount when none is set', () => {
    expect(podSpecReferences({ containers: [{ name: 'a' }] })).toEqual([{ kind: 'ServiceAccount', name: 'default', uses: ['serviceAccountName (unset: default)'], optional: false }]);
  });
});

describe('referenceHints', () => {
  const ref = (r: Partial<CheckedReference>): CheckedReference => ({ kind: 'Secret', name: 'x', uses: [], optional: false, status: 'missing', ...r });
  it('flags a missing required reference with what it does to the pods, and not an optional or unchecked one', () => {
    expect(
      referenceHints([
        ref({ name: 'db', uses: ['env DB_PASSWORD (gw)'] }),
        ref({ kind: 'ConfigMap', name: 'cfg', uses: ['volume config'] }),
        ref({ name: 'opt', optional: true }),
        ref({ name: 'hidden', status: 'forbidden' }),
      ]),
    ).toEqual([
      'Secret db does not exist (env DB_PASSWORD (gw)): containers using it fail with CreateContainerConfigError; create it or fix the name',
      'ConfigMap cfg does not exist (volume config): pods using it stay ContainerCreating (FailedMount); create it or fix the name',
    ]);
  });
});

describe('workload_diagnose references', () => {
  let api: FakeApiserver;
  const pod = {
    metadata: { name: 'web', namespace: 'team-a', uid: 'u1' },
    spec: { containers: [{ name: 'app', image: 'app:1', env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'present', key: 'token' } } }] }], volumes: [{ name: 'gone', secret: { secretName: 'absent' } }, { name: 'cfg', configMap: { name: 'locked' } }] },
    status: { phase: 'Pending', containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] },
  };
  beforeAll(async () => {
    api = await startFakeApiserver((req) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/api/v1/namespaces/team-a/pods/web') return { status: 200, body: pod };
      if (url.pathname === '/api/v1/namespaces/team-a/events') return { status: 200, body: { items: [] } };
      if (url.pathname.startsWith('/api/v1/namespaces/team-a/configmaps/')) return { status: 403, body: { kind: 'Status', reason: 'Forbidden', message: 'forbidden', code: 403 } };
      if (url.pathname === '/api/v1/namespaces/team-a/secrets/present' || url.pathname === '/api/v1/namespaces/team-a/serviceaccounts/default') {
        // A metadata-only answer: what the apiserver sends for the PartialObjectMetadata Accept header.
        return { status: 200, body: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: url.pathname.split('/').pop() } } };
      }
      return undefined;
    });
  });
  afterAll(() => api.close());

  it('checks each reference by a metadata-only GET; a 403 marks that reference, not the call', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'workload_diagnose', arguments: { kind: 'Pod', name: 'web', namespace: 'team-a' } });
    await close();
    const text = (res.content as Array<{ text: string }>)[0]!.text;
    expect(res.isError).toBeFalsy();
    expect(text).toContain('Secret present: exists; env TOKEN (app)');
    expect(text).toContain('Secret absent: MISSING; volume gone');
    expect(text).toContain('ConfigMap locked: cannot check (forbidden to get configmaps); volume cfg');
    expect(text).toContain('- Secret absent does not exist (volume gone): pods using it stay ContainerCreating (FailedMount); create it or fix the name');
    expect(res.structuredContent).toMatchObject({ healthy: false, references: expect.arrayContaining([expect.objectContaining({ kind: 'ConfigMap', name: 'locked', status: 'forbidden' })]) });
    const lookups = api.requests.filter((r) => /\/(secrets|configmaps|serviceaccounts)\//.test(r.url));
    expect(lookups).toHaveLength(4);
    for (const r of lookups) expect(r.headers.accept).toBe('application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1');
  });

  it('does not look up a kind the cluster policy denies, and says so', async () => {
    const before = api.requests.length;
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url, {}, { kinds: { deny: ['Secret'] } })));
    const res = await client.callTool({ name: 'workload_diagnose', arguments: { kind: 'Pod', name: 'web', namespace: 'team-a' } });
    await close();
    expect(res.isError).toBeFalsy();
    expect((res.content as Array<{ text: string }>)[0]!.text).toContain('Secret absent: kind Secret is denied on cluster test; volume gone');
    expect(api.requests.slice(before).filter((r) => r.url.includes('/secrets/'))).toEqual([]);
  });
});

describe('referenceLines', () => {
  it('leaves out only the implicit default ServiceAccount when it exists', () => {
    const sa = { kind: 'ServiceAccount' as const, name: 'default', uses: ['serviceAccountName (unset: default)'], optional: false };
    expect(referenceLines([{ ...sa, status: 'exists' }])).toBe('references: none besides the default ServiceAccount');
    expect(referenceLines([{ ...sa, status: 'missing' }])).toContain('ServiceAccount default: MISSING');
    expect(referenceLines([{ ...sa, name: 'api', uses: ['serviceAccountName'], status: 'exists' }])).toContain('ServiceAccount api: exists; serviceAccountName');
  });
});
