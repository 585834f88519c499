import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApiserver, type FakeApiserver } from '../../testing/fake-apiserver.js';
import { connectInMemory, testConfig, testDeps } from '../../testing/harness.js';
import { podHealth } from './pod-health.js';

const now = new Date().toISOString();
const NODES = Array.from({ length: 1200 }, (_, i) => ({
  metadata: { name: `node-${i}` },
  status: {
    conditions: [
      { type: 'Ready', status: i === 1100 ? 'False' : 'True' },
      { type: 'MemoryPressure', status: i === 777 ? 'True' : 'False' },
    ],
  },
}));
const crashPod = {
  metadata: { name: 'crashy', namespace: 'team-a', creationTimestamp: now },
  spec: { containers: [{ name: 'app' }] },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'False' }],
    containerStatuses: [{ name: 'app', ready: false, restartCount: 7, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: now } } }],
  },
};
const okPod = { metadata: { name: 'fine', namespace: 'team-a' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: { running: {} } }] } };

function paged(items: unknown[], url: URL) {
  const start = Number(url.searchParams.get('continue') ?? 0);
  const limit = Number(url.searchParams.get('limit') ?? 500);
  const next = start + limit < items.length ? String(start + limit) : undefined;
  return { status: 200, body: { metadata: next ? { continue: next } : {}, items: items.slice(start, start + limit) } };
}

let api: FakeApiserver;
beforeAll(async () => {
  api = await startFakeApiserver((req) => {
    const url = new URL(req.url ?? '/', 'http://x');
    switch (url.pathname) {
      case '/readyz':
        return { status: 200, body: 'ok' };
      case '/api/v1/nodes':
        return paged(NODES, url);
      case '/api/v1/pods':
        return paged([okPod, crashPod], url);
      case '/apis/apps/v1/deployments':
        return paged([{ metadata: { name: 'web', namespace: 'team-a' }, spec: { replicas: 3 }, status: { availableReplicas: 1, unavailableReplicas: 2, updatedReplicas: 3, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] } }], url);
      case '/apis/batch/v1/jobs':
        return paged([{ metadata: { name: 'migrate', namespace: 'team-a' }, status: { conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] } }], url);
      case '/api/v1/events':
        return paged([], url);
      default:
        return undefined;
    }
  });
});
afterAll(() => api.close());

describe('cluster_health', () => {
  it('reads every node past the first 500, and sees crashloops, pressure, unavailable Deployments and failed Jobs', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'cluster_health', arguments: {} });
    const text = (res.content as Array<{ text: string }>)[0]!.text;
    expect(res.structuredContent).toMatchObject({ apiserverReady: true, nodes: 1200, nodesNotReady: 1, nodesUnderPressure: 1, crashLooping: 1, podsUnhealthy: 1, deploymentsUnavailable: 1, jobsFailed: 1 });
    expect(text).toContain('nodes: 1199/1200 Ready; not Ready: node-1100');
    expect(text).toContain('nodes under pressure: node-777 (MemoryPressure)');
    expect(text).toMatch(/team-a\s+crashy\s+Running\s+0\/1\s+7\s+app: CrashLoopBackOff; app last exit OOMKilled \(137\); not Ready/);
    expect(text).not.toMatch(/\bfine\b/);
    expect(text).toMatch(/team-a\s+web\s+1\/3\s+3\s+ProgressDeadlineExceeded; 1\/3 available/);
    expect(text).toMatch(/team-a\s+migrate\s+BackoffLimitExceeded/);
    await close();
  });

  it('judges pods like kubectl: image pull errors and Pending-unschedulable are problems, a starting container is not', () => {
    expect(podHealth({ status: { phase: 'Pending', containerStatuses: [{ name: 'a', state: { waiting: { reason: 'ImagePullBackOff' } } }] } }).problem).toBe('a: ImagePullBackOff');
    expect(podHealth({ metadata: { creationTimestamp: now }, status: { phase: 'Pending', containerStatuses: [{ name: 'a', state: { waiting: { reason: 'ContainerCreating' } } }] } }).problem).toBe('');
    expect(podHealth({ status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] } }).problem).toBe('Pending: Unschedulable');
  });
});
