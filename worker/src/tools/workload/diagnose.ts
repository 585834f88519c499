import { z } from 'zod';
import { resourcePath } from '../../k8s/discovery.js';
import { KubeApiError } from '../../k8s/errors.js';
import { age, renderColumns } from '../../output/format.js';
import { clusterArg, nameArg, namespaceArg } from '../args.js';
import { listAll } from '../cluster/list-all.js';
import { podHealth, type ContainerStatus, type PodLike } from '../cluster/pod-health.js';
import { foldEvents, type KubeEvent } from '../core/events.js';
import { defineTool, READ, type ToolContext } from '../define.js';
import { builtin, EVENTS, PODS } from '../resources/common.js';
import { REPLICASETS, WORKLOAD_KINDS } from './kinds.js';
import { checkReferences, podSpecReferences, referenceHints, referenceLines, referenceSchema, type CheckedReference, type ContainerRefs, type PodSpecRefs } from './references.js';
import { selectorMatches, selectorString, type LabelSelector } from './selector.js';

const HPAS = builtin('autoscaling', 'v2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', true);
const PDBS = builtin('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true);
const QUOTAS = builtin('', 'v1', 'resourcequotas', 'ResourceQuota', true);

/** Log lines worth an SRE's eye in a crashed container's last words. */
const INTERESTING = /panic|fatal|error|exception|traceback|oom|out of memory|killed|segfault|refused|timeout|denied|no such file|cannot|failed/i;

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}
interface Owned {
  metadata?: { name?: string; namespace?: string; uid?: string; generation?: number; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: Array<{ uid?: string }>; creationTimestamp?: string };
  spec?: {
    replicas?: number;
    paused?: boolean;
    selector?: LabelSelector;
    template?: { metadata?: { labels?: Record<string, string> }; spec?: Omit<PodSpecRefs, 'containers'> & { containers?: Array<ContainerRefs & { image?: string; resources?: unknown }> } };
    scaleTargetRef?: { kind?: string; name?: string };
    minReplicas?: number;
    maxReplicas?: number;
    hard?: Record<string, string>;
    minAvailable?: number | string;
    maxUnavailable?: number | string;
  };
  status?: Record<string, unknown> & { conditions?: Condition[]; observedGeneration?: number; used?: Record<string, string>; hard?: Record<string, string> };
}
interface ContainerSpec {
  name?: string;
  image?: string;
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
}
interface PodFull extends Omit<PodLike, 'spec' | 'metadata'> {
  metadata?: PodLike['metadata'] & { uid?: string; labels?: Record<string, string> };
  spec?: Omit<PodSpecRefs, 'containers'> & { nodeName?: string; containers?: Array<ContainerSpec & ContainerRefs> };
}

async function optional<T>(fn: () => Promise<T>): Promise<T | string> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof KubeApiError && err.status !== 401) return `not available: ${err.toToolText()}`;
    throw err;
  }
}

async function eventsAbout(ctx: ToolContext, ns: string, uid: string | undefined): Promise<KubeEvent[] | string> {
  if (!uid) return [];
  return optional(async () => (await ctx.clients().rest.get<{ items?: KubeEvent[] }>(resourcePath(EVENTS, ns), { query: { fieldSelector: `involvedObject.uid=${uid}`, limit: 200 }, signal: ctx.signal })).items ?? []);
}

function eventLines(events: KubeEvent[] | string, max = 12): string {
  if (typeof events === 'string') return `  events: ${events}`;
  const folded = foldEvents(events).slice(0, max);
  if (!folded.length) return '  events: none';
  return `  events (newest first):\n${renderColumns(['LAST SEEN', 'TYPE', 'REASON', 'COUNT', 'MESSAGE'], folded.map((f) => [age(f.lastSeen), f.type, f.reason, String(f.count), f.message.replace(/\s+/g, ' ')]))
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')}`;
}

/** The kubelet's back-off message ends by naming the container and pod the line already names: that tail goes. */
function waitingMessage(message: string): string {
  return message.replace(/\s+/g, ' ').replace(/ container=\S+ pod=\S+$/, ' container');
}

function containerLine(c: ContainerStatus, spec: ContainerSpec[] | undefined, shownImages: ReadonlySet<string>): string {
  const state = c.state?.waiting
    ? `waiting: ${c.state.waiting.reason ?? ''}${c.state.waiting.message ? ` (${waitingMessage(c.state.waiting.message)})` : ''}`
    : c.state?.terminated
      ? `terminated: ${c.state.terminated.reason ?? ''} exit ${c.state.terminated.exitCode ?? '?'}`
      : c.state?.running
        ? 'running'
        : 'unknown';
  const last = c.lastState?.terminated ? `; last: ${c.lastState.terminated.reason ?? 'terminated'} exit ${c.lastState.terminated.exitCode ?? '?'}${c.lastState.terminated.finishedAt ? ` ${age(c.lastState.terminated.finishedAt)} ago` : ''}` : '';
  const s = spec?.find((x) => x.name === c.name);
  // Limits explain a termination (OOMKilled at the limit); readiness only says something for a running container;
  // the image only when neither the waiting message nor the workload's template above already names it.
  const terminated = c.lastState?.terminated ?? c.state?.terminated;
  const limits = terminated && s?.resources?.limits ? `; limits ${Object.entries(s.resources.limits).map(([k, v]) => `${k}=${v}`).join(',')}` : '';
  const ready = c.state?.running ? `; ready ${c.ready ? 'yes' : 'no'}` : '';
  const image = s?.image && !shownImages.has(s.image) && !c.state?.waiting?.message?.includes(s.image) ? `; image ${s.image}` : '';
  return `  container ${c.name}: ${state}${last}; restarts ${c.restartCount ?? 0}${ready}${limits}${image}`;
}

/** What to do next, from the states and events: the part a model should read first. */
function hints(pod: PodFull, events: KubeEvent[] | string): string[] {
  const out: string[] = [];
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const c of statuses) {
    const w = c.state?.waiting?.reason;
    const last = c.lastState?.terminated ?? c.state?.terminated;
    const limit = pod.spec?.containers?.find((x) => x.name === c.name)?.resources?.limits?.memory;
    if (last?.reason === 'OOMKilled') out.push(`container ${c.name} was OOMKilled (exit 137)${limit ? ` at its memory limit ${limit}` : ' (no memory limit: the node ran out)'}: raise the limit or find the leak`);
    else if (w === 'CrashLoopBackOff' && last) out.push(`container ${c.name} keeps exiting (${last.reason ?? 'Error'}, exit ${last.exitCode ?? '?'}): read its previous log below`);
    if (w === 'ImagePullBackOff' || w === 'ErrImagePull' || w === 'InvalidImageName') out.push(`container ${c.name} cannot pull its image: check the name/tag and imagePullSecrets (Failed events below)`);
    if (w === 'CreateContainerConfigError') out.push(`container ${c.name} cannot start: ${c.state?.waiting?.message ?? 'a referenced ConfigMap or Secret (key) is missing'}`);
  }
  if (typeof events !== 'string') {
    if (events.some((e) => e.reason === 'Unhealthy')) out.push('probes are failing (Unhealthy events): compare the probe path/port with what the container serves');
    const sched = events.find((e) => e.reason === 'FailedScheduling');
    if (sched) out.push(`not scheduled: ${(sched.message ?? '').replace(/\s+/g, ' ')}`);
    const mount = events.find((e) => e.reason === 'FailedMount' || e.reason === 'FailedAttachVolume');
    if (mount) out.push(`a volume does not mount: ${(mount.message ?? '').replace(/\s+/g, ' ')}`);
  }
  return out;
}

async function previousLog(ctx: ToolContext, ns: string, pod: string, container: string): Promise<string> {
  try {
    const res = await ctx.clients().rest.request('GET', resourcePath(PODS, ns, pod, 'log'), { query: { container, previous: true, tailLines: 500 }, accept: '*/*', maxBytes: 1024 * 1024, signal: ctx.signal });
    const lines = res.text.split('\n').filter(Boolean);
    const hits = lines.filter((l) => INTERESTING.test(l));
    const shown = (hits.length ? hits : lines).slice(-15);
    const what = hits.length ? `${hits.length} of the last ${lines.length} lines look like errors; the last ${shown.length}` : `no error-looking lines in the last ${lines.length}; its last ${shown.length}`;
    return `  previous log of ${container} (${what}):\n${shown.map((l) => `    ${l}`).join('\n') || '    (empty)'}`;
  } catch (err) {
    if (err instanceof KubeApiError && err.status !== 401) return `  previous log of ${container}: not available (${err.toToolText()})`;
    throw err;
  }
}

/** Everything about one pod that answers "why is it not working". */
async function diagnosePod(ctx: ToolContext, pod: PodFull, inTable = false, shownImages: ReadonlySet<string> = new Set()): Promise<{ text: string; hints: string[] }> {
  const ns = pod.metadata?.namespace ?? 'default';
  const h = podHealth(pod);
  const node = pod.spec?.nodeName ? `node ${pod.spec.nodeName}` : '';
  // Phase, readiness, restarts and problem are already in the pods table above it.
  const lines = [
    inTable
      ? `pod ${pod.metadata?.name}${node ? ` (${node})` : ''}${pod.status?.reason ? `: ${pod.status.reason}` : ''}`
      : `pod ${ns}/${pod.metadata?.name}: ${h.phase}${pod.status?.reason ? ` (${pod.status.reason})` : ''}, ready ${h.ready}, restarts ${h.restarts}${node ? `, ${node}` : ''}${h.problem ? `; problem: ${h.problem}` : ''}`,
  ];
  // ContainersNotReady only restates the container lines below.
  const bad = (pod.status?.conditions ?? []).filter((c) => c.status !== 'True' && c.reason !== 'ContainersNotReady');
  if (bad.length) lines.push(`  conditions not True: ${bad.map((c) => `${c.type}${c.reason ? ` (${c.reason})` : ''}`).join(', ')}`);
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const c of statuses) lines.push(containerLine(c, pod.spec?.containers, shownImages));
  const events = await eventsAbout(ctx, ns, pod.metadata?.uid);
  lines.push(eventLines(events));
  for (const c of statuses.filter((x) => x.lastState?.terminated || (x.restartCount ?? 0) > 0)) lines.push(await previousLog(ctx, ns, pod.metadata?.name ?? '', c.name ?? ''));
  return { text: lines.join('\n'), hints: hints(pod, events) };
}

function conditionsLine(conds: Condition[] | undefined): string {
  return (conds ?? []).map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message.replace(/\s+/g, ' ')}` : ''})` : ''}`).join('; ') || 'none';
}

export const workloadDiagnose = defineTool({
  name: 'workload_diagnose',
  title: 'Workload: Diagnose',
  description:
    'One call for "why is this not working": for a Pod, each container\'s state and last state (reason, exit code, OOMKilled), restarts, probe failures and image-pull errors from its events, and the previous container\'s log tail filtered for errors; the Secrets, ConfigMaps, PVCs and ServiceAccount the pod (template) references (volumes, env, envFrom, projected volumes, imagePullSecrets), where each is used and whether it exists (read as metadata only: no Secret data is read); for a Deployment, StatefulSet, DaemonSet or Job also generation vs observedGeneration, conditions, its ReplicaSets and their events (quota and Pod Security refusals land there), the HPA, PDBs and quotas involved, and the worst of its pods diagnosed as above. Starts with what to do next.',
  input: z.object({
    cluster: clusterArg,
    kind: z.enum(['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job']).default('Deployment').describe('Kind of the workload (default Deployment).'),
    name: nameArg,
    namespace: namespaceArg,
  }),
  output: z.object({
    kind: z.string(),
    name: z.string(),
    namespace: z.string(),
    healthy: z.boolean(),
    hints: z.array(z.string()),
    references: z.array(referenceSchema).describe('Secrets, ConfigMaps, PVCs and the ServiceAccount the pod (template) references, where each is used, and whether it exists (metadata only).'),
  }),
  annotations: READ,
  kinds: (a) => [a.kind, 'Pod', 'Event'],
  async run(a, ctx) {
    const ns = a.namespace ?? 'default';
    const rest = ctx.clients().rest;
    const obj = await rest.get<Owned & PodFull & { spec?: Owned['spec'] & PodFull['spec'] }>(resourcePath(WORKLOAD_KINDS[a.kind], ns, a.name), { signal: ctx.signal });
    const sections: string[] = [];
    const allHints: string[] = [];
    let healthy = true;
    let references: CheckedReference[];
    if (a.kind === 'Pod') {
      const d = await diagnosePod(ctx, obj);
      sections.push(d.text);
      allHints.push(...d.hints);
      references = await checkReferences(ctx, ns, podSpecReferences(obj.spec));
      sections.push(referenceLines(references));
      allHints.push(...referenceHints(references));
      healthy = !podHealth(obj).problem;
    } else {
      const s = obj.status ?? {};
      const gen = obj.metadata?.generation ?? 0;
      const observed = s.observedGeneration ?? 0;
      const generation = gen > observed ? `generation ${gen}, observedGeneration ${observed} (the controller has not seen the latest spec yet)` : `generation ${gen} (observed)`;
      const head = [`${a.kind.toLowerCase()} ${ns}/${a.name}: ${generation}${obj.spec?.paused ? '; PAUSED (rollout_resume to continue)' : ''}`];
      if (gen > observed) allHints.push(`the ${a.kind} controller has not observed generation ${gen} (is the controller-manager running?)`);
      const counts = ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'currentNumberScheduled', 'desiredNumberScheduled', 'numberReady', 'numberUnavailable', 'active', 'succeeded', 'failed']
        .filter((k) => s[k] !== undefined)
        .map((k) => `${k} ${String(s[k])}`);
      head.push(`  desired ${obj.spec?.replicas ?? (a.kind === 'Job' || a.kind === 'DaemonSet' ? '-' : 1)}; ${counts.join(', ') || 'no status yet'}`);
      head.push(`  conditions: ${conditionsLine(s.conditions)}`);
      for (const c of s.conditions ?? []) {
        if (c.reason === 'ProgressDeadlineExceeded') allHints.push(`the rollout is stuck past its progress deadline: ${c.message ?? ''} (rollout_undo rolls back)`);
        if (c.type === 'ReplicaFailure' && c.status === 'True') allHints.push(`pods cannot be created: ${c.message ?? c.reason ?? ''}`);
        if (c.type === 'Failed' && c.status === 'True') allHints.push(`the Job failed: ${c.reason ?? ''} ${c.message ?? ''}`.trim());
      }
      const tmplImages = (obj.spec?.template?.spec?.containers ?? []).map((c) => `${c.name}=${c.image}`).join(', ');
      if (tmplImages) head.push(`  images: ${tmplImages}`);
      head.push(eventLines(await eventsAbout(ctx, ns, obj.metadata?.uid)));
      sections.push(head.join('\n'));
      references = await checkReferences(ctx, ns, podSpecReferences(obj.spec?.template?.spec));
      sections.push(referenceLines(references));
      allHints.push(...referenceHints(references));

      if (a.kind === 'Deployment') {
        const rss = await optional(() => listAll<Owned>(rest, resourcePath(REPLICASETS, ns), { cap: 1000, labelSelector: selectorString(obj.spec?.selector), signal: ctx.signal }));
        if (typeof rss === 'string') sections.push(`replicasets: ${rss}`);
        else {
          const owned = rss.items
            .filter((r) => r.metadata?.ownerReferences?.some((o) => o.uid === obj.metadata?.uid))
            .sort((x, y) => Number(y.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0) - Number(x.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0));
          const lines = ['replicasets (newest revision first):'];
          for (const [i, r] of owned.slice(0, 4).entries()) {
            const rs = r.status ?? {};
            lines.push(`  ${i === 0 ? 'new' : 'old'} ${r.metadata?.name} revision ${r.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? '?'}: desired ${r.spec?.replicas ?? 0}, ready ${String(rs.readyReplicas ?? 0)}, available ${String(rs.availableReplicas ?? 0)}; images ${(r.spec?.template?.spec?.containers ?? []).map((c) => c.image).join(', ')}`);
            const ev = await eventsAbout(ctx, ns, r.metadata?.uid);
            if (typeof ev !== 'string' && ev.length) {
              lines.push(eventLines(ev, 6).replace(/^ {2}/gm, '    '));
              const failed = ev.find((e) => e.reason === 'FailedCreate');
              if (failed) allHints.push(`ReplicaSet ${r.metadata?.name} cannot create pods: ${(failed.message ?? '').replace(/\s+/g, ' ')}`);
            }
          }
          if (!owned.length) lines.push('  none');
          sections.push(lines.join('\n'));
        }
      }

      const podSel = a.kind === 'Job' ? `job-name=${a.name}` : selectorString(obj.spec?.selector);
      const pods = await optional(() => listAll<PodFull>(rest, resourcePath(PODS, ns), { cap: 1000, labelSelector: podSel, signal: ctx.signal }));
      if (typeof pods === 'string') sections.push(`pods: ${pods}`);
      else {
        const judged = pods.items.map((p) => ({ p, h: podHealth(p) })).sort((x, y) => y.h.severity - x.h.severity || y.h.restarts - x.h.restarts);
        const unhealthy = judged.filter((x) => x.h.problem);
        sections.push(
          `pods (${pods.items.length}, ${unhealthy.length} unhealthy):\n${judged.length ? renderColumns(['NAME', 'PHASE', 'READY', 'RESTARTS', 'PROBLEM'], judged.slice(0, 15).map(({ h }) => [h.name, h.phase, h.ready, String(h.restarts), h.problem || '-'])).split('\n').map((l) => `  ${l}`).join('\n') : '  none'}`,
        );
        if (unhealthy.length) {
          const shown = new Set((obj.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? ''));
          const worst = await diagnosePod(ctx, unhealthy[0]!.p, true, shown);
          sections.push(`the worst pod:\n${worst.text}`);
          allHints.push(...worst.hints);
        }
        healthy = !unhealthy.length && !allHints.length;
      }

      const labels = obj.spec?.template?.metadata?.labels ?? {};
      const hpas = await optional(() => listAll<Owned>(rest, resourcePath(HPAS, ns), { cap: 500, signal: ctx.signal }));
      if (typeof hpas !== 'string') {
        for (const h of hpas.items.filter((x) => x.spec?.scaleTargetRef?.kind === a.kind && x.spec.scaleTargetRef.name === a.name)) {
          sections.push(`hpa ${h.metadata?.name}: min ${h.spec?.minReplicas ?? 1}, max ${h.spec?.maxReplicas}, current ${String(h.status?.currentReplicas ?? '?')}, desired ${String(h.status?.desiredReplicas ?? '?')}; conditions: ${conditionsLine(h.status?.conditions)}`);
        }
      }
      const pdbs = await optional(() => listAll<Owned>(rest, resourcePath(PDBS, ns), { cap: 500, signal: ctx.signal }));
      if (typeof pdbs !== 'string') {
        for (const p of pdbs.items.filter((x) => selectorMatches(x.spec?.selector, labels))) {
          const allowed = Number(p.status?.disruptionsAllowed ?? 0);
          sections.push(`pdb ${p.metadata?.name}: ${p.spec?.minAvailable !== undefined ? `minAvailable ${p.spec.minAvailable}` : `maxUnavailable ${p.spec?.maxUnavailable}`}, disruptions allowed ${allowed}${allowed === 0 ? ' (evictions and drains of these pods are blocked)' : ''}`);
        }
      }
      const quotas = await optional(() => listAll<Owned>(rest, resourcePath(QUOTAS, ns), { cap: 100, signal: ctx.signal }));
      if (typeof quotas !== 'string') {
        for (const q of quotas.items) {
          const hard = q.status?.hard ?? q.spec?.hard ?? {};
          const used = q.status?.used ?? {};
          const full = Object.keys(hard).filter((k) => used[k] !== undefined && used[k] === hard[k]);
          sections.push(`quota ${q.metadata?.name}: ${Object.entries(hard).map(([k, v]) => `${k} ${used[k] ?? '?'}/${v}`).join(', ')}${full.length ? ` (at its limit: ${full.join(', ')})` : ''}`);
          if (full.length) allHints.push(`ResourceQuota ${q.metadata?.name} is at its limit for ${full.join(', ')}: new pods will be refused`);
        }
      }
    }
    const summary = allHints.length ? `What to look at first:\n${[...new Set(allHints)].map((h) => `- ${h}`).join('\n')}` : healthy ? 'Nothing wrong found.' : 'No single cause found; the details follow.';
    const text = `${summary}\n\n${sections.join('\n\n')}`;
    return { text, structured: { kind: a.kind, name: a.name, namespace: ns, healthy: healthy && !allHints.length, hints: [...new Set(allHints)], references }, truncationHint: 'Diagnose one pod (kind Pod) or read events_list / pods_log for the rest.' };
  },
});
