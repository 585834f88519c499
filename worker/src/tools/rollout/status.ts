import { z } from 'zod';
import { resourcePath } from '../../k8s/discovery.js';
import { clusterArg, nameArg, namespaceArg } from '../args.js';
import { defineTool, READ } from '../define.js';
import { ROLLOUT_RESOURCES, rolloutKindArg } from './common.js';
import { sleep } from '../wait.js';

interface Workload {
  metadata?: { generation?: number };
  spec?: { replicas?: number; updateStrategy?: { type?: string } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    readyReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }>;
  };
}

/** The same judgement `kubectl rollout status` makes, once, without watching. */
export function rolloutState(kind: keyof typeof ROLLOUT_RESOURCES, name: string, w: Workload): { done: boolean; message: string } {
  const s = w.status ?? {};
  if ((w.metadata?.generation ?? 0) > (s.observedGeneration ?? 0)) return { done: false, message: `Waiting for ${kind.toLowerCase()} "${name}" spec update to be observed...` };
  if (kind === 'DaemonSet') {
    const desired = s.desiredNumberScheduled ?? 0;
    if ((s.updatedNumberScheduled ?? 0) < desired) return { done: false, message: `Waiting for daemon set "${name}" rollout to finish: ${s.updatedNumberScheduled ?? 0} of ${desired} updated pods are available...` };
    if ((s.numberAvailable ?? 0) < desired) return { done: false, message: `Waiting for daemon set "${name}" rollout to finish: ${s.numberAvailable ?? 0} of ${desired} updated pods are available...` };
    return { done: true, message: `daemon set "${name}" successfully rolled out` };
  }
  const want = w.spec?.replicas ?? 1;
  if (kind === 'Deployment') {
    const progressing = s.conditions?.find((c) => c.type === 'Progressing');
    if (progressing?.reason === 'ProgressDeadlineExceeded') return { done: false, message: `deployment "${name}" exceeded its progress deadline` };
    if ((s.updatedReplicas ?? 0) < want) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${s.updatedReplicas ?? 0} out of ${want} new replicas have been updated...` };
    if ((s.replicas ?? 0) > (s.updatedReplicas ?? 0)) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${(s.replicas ?? 0) - (s.updatedReplicas ?? 0)} old replicas are pending termination...` };
    if ((s.availableReplicas ?? 0) < (s.updatedReplicas ?? 0)) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${s.availableReplicas ?? 0} of ${s.updatedReplicas ?? 0} updated replicas are available...` };
    return { done: true, message: `deployment "${name}" successfully rolled out` };
  }
  if ((s.readyReplicas ?? 0) < want) return { done: false, message: `Waiting for ${want - (s.readyReplicas ?? 0)} pods to be ready...` };
  if (w.spec?.updateStrategy?.type === 'RollingUpdate' && s.updateRevision !== s.currentRevision)
    return { done: false, message: `waiting for statefulset rolling update to complete ${s.updatedReplicas ?? 0} pods at revision ${s.updateRevision}...` };
  return { done: true, message: `statefulset rolling update complete ${s.readyReplicas ?? 0} pods at revision ${s.currentRevision}...` };
}

export const rolloutStatus = defineTool({
  name: 'rollout_status',
  title: 'Rollout: Status',
  description:
    'Whether a Deployment, StatefulSet or DaemonSet has finished rolling out, with the message kubectl rollout status prints. wait (seconds, at most 120) keeps checking until it is done or the time is up; 0 (default) checks once.',
  input: z.object({
    cluster: clusterArg,
    kind: rolloutKindArg,
    name: nameArg,
    namespace: namespaceArg,
    wait: z.number().int().min(0).max(120).default(0).describe('Seconds to wait for the rollout to finish (0-120, default 0 = check once). A stuck rollout (progress deadline exceeded) returns at once.'),
  }),
  output: z.object({ done: z.boolean(), message: z.string(), waitedSeconds: z.number().int() }),
  annotations: READ,
  kinds: (a) => [a.kind],
  async run(a, ctx) {
    const path = resourcePath(ROLLOUT_RESOURCES[a.kind], a.namespace ?? 'default', a.name);
    const started = Date.now();
    const deadline = started + a.wait * 1000;
    for (;;) {
      const w = await ctx.clients().rest.get<Workload>(path, { signal: ctx.signal });
      const state = rolloutState(a.kind, a.name, w);
      const stuck = state.message.includes('exceeded its progress deadline');
      if (state.done || stuck || Date.now() + 2000 > deadline || ctx.signal.aborted) {
        const waitedSeconds = Math.round((Date.now() - started) / 1000);
        const note = a.wait && !state.done && !stuck ? ` (still not done after waiting ${waitedSeconds}s)` : '';
        return { text: state.message + note, structured: { ...state, waitedSeconds } };
      }
      await sleep(2000, ctx.signal);
    }
  },
});
