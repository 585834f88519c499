import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApiserver, type FakeApiserver } from '../../testing/fake-apiserver.js';
import { connectInMemory, testConfig, testDeps } from '../../testing/harness.js';

const pod = (name: string, node: string, containers: Array<{ name: string; requests?: Record<string, string>; limits?: Record<string, string> }>) => ({
  metadata: { name, namespace: 'team-a' },
  spec: { nodeName: node, containers: containers.map((c) => ({ name: c.name, resources: { requests: c.requests, limits: c.limits } })) },
  status: { phase: 'Running' },
});

let api: FakeApiserver;
beforeAll(async () => {
  api = await startFakeApiserver((req) => {
    const url = new URL(req.url ?? '/', 'http://x');
    switch (url.pathname) {
      case '/apis/metrics.k8s.io/v1beta1/namespaces/team-a/pods':
        return {
          status: 200,
          body: {
            items: [
              { metadata: { name: 'web', namespace: 'team-a' }, containers: [{ name: 'app', usage: { cpu: '50000000n', memory: '48Mi' } }, { name: 'proxy', usage: { cpu: '10m', memory: '16Mi' } }] },
              { metadata: { name: 'batch', namespace: 'team-a' }, containers: [{ name: 'job', usage: { cpu: '900m', memory: '20Mi' } }] },
            ],
          },
        };
      case '/api/v1/namespaces/team-a/pods':
        return { status: 200, body: { items: [pod('web', 'n1', [{ name: 'app', requests: { cpu: '100m', memory: '32Mi' }, limits: { memory: '64Mi' } }, { name: 'proxy', limits: { memory: '64Mi' } }]), pod('batch', 'n1', [{ name: 'job', requests: { cpu: '1' } }])] } };
      case '/apis/metrics.k8s.io/v1beta1/nodes':
        return { status: 200, body: { items: [{ metadata: { name: 'n1' }, usage: { cpu: '1', memory: '1Gi' } }] } };
      case '/api/v1/nodes':
        return { status: 200, body: { items: [{ metadata: { name: 'n1' }, status: { allocatable: { cpu: '4', memory: '4Gi' } } }] } };
      case '/api/v1/pods':
        return { status: 200, body: { items: [pod('web', 'n1', [{ name: 'app', requests: { cpu: '100m', memory: '32Mi' } }]), pod('batch', 'n1', [{ name: 'job', requests: { cpu: '1' } }])] } };
      default:
        return undefined;
    }
  });
});
afterAll(() => api.close());

describe('pods_top and nodes_top', () => {
  it('compares pod usage with requests and limits, sorted by memory', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'pods_top', arguments: { namespace: 'team-a' } });
    const rows = (res.structuredContent as { rows: Array<Record<string, string>> }).rows;
    expect(rows[0]).toEqual({ namespace: 'team-a', pod: 'web', cpu: '60m', cpuOfRequest: '60%', cpuOfLimit: '-', memory: '64Mi', memoryOfRequest: '200%', memoryOfLimit: '50%' });
    expect(rows[1]).toMatchObject({ pod: 'batch', cpu: '900m', cpuOfRequest: '90%' });
    await close();
  });

  it('sorts by cpu and splits per container', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'pods_top', arguments: { namespace: 'team-a', containers: true, sortBy: 'cpu' } });
    const rows = (res.structuredContent as { rows: Array<Record<string, string>> }).rows;
    expect(rows.map((r) => `${r.pod}/${r.container}`)).toEqual(['batch/job', 'web/app', 'web/proxy']);
    expect(rows[1]).toMatchObject({ cpu: '50m', memoryOfLimit: '75%' });
    await close();
  });

  it('shows node usage and requests as % of allocatable', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'nodes_top', arguments: {} });
    expect((res.structuredContent as { rows: unknown[] }).rows[0]).toEqual({ name: 'n1', cpu: '1000m', cpuPercent: '25%', memory: '1024Mi', memoryPercent: '25%', cpuRequested: '1100m (28%)', memoryRequested: '32Mi (1%)', allocatable: '4000m/4096Mi' });
    await close();
  });

  it('says clearly when the cluster has no metrics API', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'pods_top', arguments: { namespace: 'nowhere' } });
    expect(res.isError).toBe(true);
    expect((res.content as Array<{ text: string }>)[0]!.text).toBe('cluster test has no metrics API (metrics.k8s.io is not served; install metrics-server to use pods_top)');
    await close();
  });
});
