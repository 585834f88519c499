import { z } from 'zod';
import { resourcePath } from '../../k8s/discovery.js';
import { KubeApiError } from '../../k8s/errors.js';
import { age, renderColumns } from '../../output/format.js';
import { clusterArg } from '../args.js';
import { EVENT_COLUMNS, foldedCells, foldedRow, foldEvents, readEvents, readNote } from '../core/events.js';
import { defineTool, READ, type ToolContext } from '../define.js';
import { builtin, PODS } from '../resources/common.js';
import { listAll } from './list-all.js';
import { podHealth, type PodLike } from './pod-health.js';

interface Node {
  metadata?: { name?: string };
  spec?: { unschedulable?: boolean };
  status?: { conditions?: Array<{ type?: string; status?: string; reason?: string }> };
}
interface Deployment {
  metadata?: { name?: string; namespace?: string; generation?: number };
  spec?: { replicas?: number; paused?: boolean };
  status?: { observedGeneration?: number; replicas?: number; availableReplicas?: number; unavailableReplicas?: number; updatedReplicas?: number; conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }> };
}
interface Job {
  metadata?: { name?: string; namespace?: string; creationTimestamp?: string };
  status?: { failed?: number; conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }> };
}

const DEPLOYMENTS = builtin('apps', 'v1', 'deployments', 'Deployment', true);
const JOBS = builtin('batch', 'v1', 'jobs', 'Job', true);
const NODE_CAP = 10_000;
const SHOW = 30;
const PRESSURE = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'NetworkUnavailable'];

async function section<T>(fn: () => Promise<T>): Promise<T | string> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof KubeApiError && err.status !== 401) return `not available: ${err.toToolText()}`;
    throw err;
  }
}

function capped(n: number, complete: boolean): string {
  return complete ? String(n) : `the first ${n} (read cap reached)`;
}

/** Deployment not fully available, with why: kubectl's own judgement plus the conditions the controller set. */
export function deploymentProblem(d: Deployment): string | undefined {
  const s = d.status ?? {};
  const want = d.spec?.replicas ?? 1;
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  const available = s.conditions?.find((c) => c.type === 'Available');
  const replicaFailure = s.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  const why: string[] = [];
  if (progressing?.reason === 'ProgressDeadlineExceeded') why.push('ProgressDeadlineExceeded');
  if (replicaFailure) why.push(`ReplicaFailure: ${replicaFailure.reason ?? ''}${replicaFailure.message ? ` (${replicaFailure.message})` : ''}`);
  if (available?.status === 'False') why.push(`Available=False${available.reason ? ` (${available.reason})` : ''}`);
  if ((s.unavailableReplicas ?? 0) > 0 || (s.availableReplicas ?? 0) < want) why.push(`${s.availableReplicas ?? 0}/${want} available`);
  return why.length ? why.join('; ') : undefined;
}

export const clusterHealth = defineTool({
  name: 'cluster_health',
  title: 'Cluster: Health',
  description:
    'One health report: apiserver readiness; nodes not Ready, under pressure or cordoned (all nodes, paged); unhealthy pods (CrashLoopBackOff, image pull errors, OOMKilled, not Ready, Pending, Failed, restarts); Deployments not fully available; failed Jobs; Warning events of the last hour, newest first. Sections you may not read say so.',
  input: z.object({
    cluster: clusterArg,
    namespace: z.string().optional().describe('Limit pods, Deployments, Jobs and events to one namespace (nodes are always cluster-wide).'),
    readCap: z.number().int().min(500).max(50_000).default(5000).describe('Read at most this many pods (and Deployments, Jobs, events) per section. Default 5000.'),
  }),
  output: z.object({
    apiserverReady: z.boolean(),
    nodes: z.number().int().optional(),
    nodesNotReady: z.number().int().optional(),
    nodesUnderPressure: z.number().int().optional(),
    podsRead: z.number().int().optional(),
    podsReadAll: z.boolean().optional(),
    podsUnhealthy: z.number().int().optional(),
    crashLooping: z.number().int().optional(),
    unhealthyPods: z.array(z.object({ namespace: z.string(), name: z.string(), phase: z.string(), ready: z.string(), restarts: z.number().int(), problem: z.string() })).optional(),
    deploymentsUnavailable: z.number().int().optional(),
    jobsFailed: z.number().int().optional(),
    warnings: z.number().int().optional(),
    warningRows: z.array(z.record(z.string(), z.string())).optional(),
  }),
  annotations: READ,
  async run(a, ctx: ToolContext) {
    const rest = ctx.clients().rest;
    const ready = await rest.raw('GET', '/readyz', { accept: 'text/plain', signal: ctx.signal });
    const out: string[] = [`apiserver: ${ready.status === 200 ? 'ready' : `NOT ready (HTTP ${ready.status})`}`];
    const structured: Record<string, unknown> = { apiserverReady: ready.status === 200 };
    const cap = a.readCap;

    const nodes = await section(() => listAll<Node>(rest, '/api/v1/nodes', { cap: NODE_CAP, signal: ctx.signal }));
    if (typeof nodes === 'string') out.push(`nodes: ${nodes}`);
    else {
      const items = nodes.items;
      const notReady = items.filter((n) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True');
      const pressure = items
        .map((n) => ({ n, on: (n.status?.conditions ?? []).filter((c) => PRESSURE.includes(c.type ?? '') && c.status === 'True').map((c) => c.type) }))
        .filter((x) => x.on.length);
      const cordoned = items.filter((n) => n.spec?.unschedulable);
      structured.nodes = items.length;
      structured.nodesNotReady = notReady.length;
      structured.nodesUnderPressure = pressure.length;
      const names = (list: Node[]) => list.slice(0, SHOW).map((n) => n.metadata?.name).join(', ') + (list.length > SHOW ? `, and ${list.length - SHOW} more` : '');
      out.push(`nodes: ${items.length - notReady.length}/${capped(items.length, nodes.complete)} Ready${notReady.length ? `; not Ready: ${names(notReady)}` : ''}`);
      if (pressure.length) out.push(`nodes under pressure: ${pressure.slice(0, SHOW).map((x) => `${x.n.metadata?.name} (${x.on.join(', ')})`).join(', ')}`);
      if (cordoned.length) out.push(`nodes cordoned (unschedulable): ${names(cordoned)}`);
    }

    const pods = await section(() => listAll<PodLike>(rest, resourcePath(PODS, a.namespace), { cap, fieldSelector: 'status.phase!=Succeeded', signal: ctx.signal }));
    if (typeof pods === 'string') out.push(`pods: ${pods}`);
    else {
      const now = Date.now();
      const bad = pods.items
        .map((p) => ({ h: podHealth(p, now), created: p.metadata?.creationTimestamp }))
        .filter((x) => x.h.problem)
        .sort((x, y) => y.h.severity - x.h.severity || y.h.restarts - x.h.restarts);
      const crash = bad.filter((x) => x.h.problem.includes('CrashLoopBackOff')).length;
      structured.podsRead = pods.items.length;
      structured.podsReadAll = pods.complete;
      structured.podsUnhealthy = bad.length;
      structured.crashLooping = crash;
      structured.unhealthyPods = bad.slice(0, SHOW).map(({ h }) => ({ namespace: h.namespace, name: h.name, phase: h.phase, ready: h.ready, restarts: h.restarts, problem: h.problem }));
      const read = `of ${capped(pods.items.length, pods.complete)} pods read (Succeeded excluded)`;
      out.push(
        bad.length
          ? `unhealthy pods: ${bad.length} ${read}${crash ? `, ${crash} in CrashLoopBackOff` : ''}${bad.length > SHOW ? `; the worst ${SHOW} shown` : ''}:\n${renderColumns(
              ['NAMESPACE', 'NAME', 'PHASE', 'READY', 'RESTARTS', 'PROBLEM', 'AGE'],
              bad.slice(0, SHOW).map(({ h, created }) => [h.namespace, h.name, h.phase, h.ready, String(h.restarts), h.problem, age(created, now)]),
            )}`
          : `unhealthy pods: none ${read}`,
      );
    }

    const deployments = await section(() => listAll<Deployment>(rest, resourcePath(DEPLOYMENTS, a.namespace), { cap, signal: ctx.signal }));
    if (typeof deployments === 'string') out.push(`deployments: ${deployments}`);
    else {
      const bad = deployments.items.filter((d) => !d.spec?.paused).map((d) => ({ d, why: deploymentProblem(d) })).filter((x) => x.why);
      structured.deploymentsUnavailable = bad.length;
      out.push(
        bad.length
          ? `deployments not fully available: ${bad.length} of ${capped(deployments.items.length, deployments.complete)}:\n${renderColumns(
              ['NAMESPACE', 'NAME', 'READY', 'UP-TO-DATE', 'PROBLEM'],
              bad.slice(0, SHOW).map(({ d, why }) => [d.metadata?.namespace ?? '', d.metadata?.name ?? '', `${d.status?.availableReplicas ?? 0}/${d.spec?.replicas ?? 1}`, String(d.status?.updatedReplicas ?? 0), why!]),
            )}`
          : `deployments not fully available: none of ${capped(deployments.items.length, deployments.complete)}`,
      );
    }

    const jobs = await section(() => listAll<Job>(rest, resourcePath(JOBS, a.namespace), { cap, signal: ctx.signal }));
    if (typeof jobs === 'string') out.push(`jobs: ${jobs}`);
    else {
      const failed = jobs.items.map((j) => ({ j, c: j.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True') })).filter((x) => x.c);
      structured.jobsFailed = failed.length;
      out.push(
        failed.length
          ? `failed jobs: ${failed.length}:\n${renderColumns(
              ['NAMESPACE', 'NAME', 'REASON', 'MESSAGE', 'AGE'],
              failed.slice(0, SHOW).map(({ j, c }) => [j.metadata?.namespace ?? '', j.metadata?.name ?? '', c!.reason ?? '', (c!.message ?? '').replace(/\s+/g, ' '), age(j.metadata?.creationTimestamp)]),
            )}`
          : 'failed jobs: none',
      );
    }

    const warnings = await section(() => readEvents(ctx, { namespace: a.namespace, fieldSelector: 'type=Warning', sinceSeconds: 3600, readCap: cap }));
    if (typeof warnings === 'string') out.push(`warning events: ${warnings}`);
    else {
      const folded = foldEvents(warnings.events);
      structured.warnings = folded.length;
      structured.warningRows = folded.slice(0, 15).map(foldedRow);
      const now = Date.now();
      out.push(
        folded.length
          ? `warning events of the last hour, newest first (${folded.length} distinct; ${readNote(warnings)}):\n${renderColumns(['NAMESPACE', ...EVENT_COLUMNS], folded.slice(0, 15).map((f) => [f.namespace, ...foldedCells(f, now)].map((c) => c.replace(/\s*\n\s*/g, ' '))))}`
          : `warning events of the last hour: none (${readNote(warnings)})`,
      );
    }
    return { text: out.join('\n'), structured };
  },
});
