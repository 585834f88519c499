import { describe, expect, it } from 'vitest';
import { podReadOrder } from './logs.js';

const pod = (name: string, created: string, status: Record<string, unknown> = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }) => ({
  metadata: { name, namespace: 'shop', creationTimestamp: created },
  spec: { containers: [{ name: 'app' }] },
  status,
});

describe('which pods workload_logs reads first', () => {
  it('least healthy first, then most restarts, then newest', () => {
    const now = Date.parse('2026-06-01T12:00:00Z');
    const pods = [
      pod('old-ok', '2026-06-01T10:00:00Z'),
      pod('new-ok', '2026-06-01T11:00:00Z'),
      pod('restarted', '2026-06-01T10:00:00Z', { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'app', ready: true, restartCount: 3, lastState: { terminated: { reason: 'Error', exitCode: 1, finishedAt: '2026-06-01T11:59:00Z' } } }] }),
      pod('crashing', '2026-06-01T10:00:00Z', { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: [{ name: 'app', ready: false, restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } } }] }),
      pod('not-ready', '2026-06-01T10:00:00Z', { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] }),
    ];
    expect(podReadOrder(pods, now).map((p) => p.metadata?.name)).toEqual(['crashing', 'not-ready', 'restarted', 'new-ok', 'old-ok']);
  });
});
