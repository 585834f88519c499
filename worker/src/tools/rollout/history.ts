import { resourcePath } from '../../k8s/discovery.js';
import { ToolRefusal } from '../../k8s/errors.js';
import { listAll } from '../cluster/list-all.js';
import type { ToolContext } from '../define.js';
import { builtin } from '../resources/common.js';
import { selectorString, type LabelSelector } from '../workload/selector.js';
import { ROLLOUT_RESOURCES } from './common.js';

const REPLICASETS = builtin('apps', 'v1', 'replicasets', 'ReplicaSet', true);
const CONTROLLER_REVISIONS = builtin('apps', 'v1', 'controllerrevisions', 'ControllerRevision', true);
const REVISION = 'deployment.kubernetes.io/revision';
const CHANGE_CAUSE = 'kubernetes.io/change-cause';

export type RolloutKind = keyof typeof ROLLOUT_RESOURCES;

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { containers?: Array<{ name?: string; image?: string }> };
}

export interface Workload {
  metadata?: { name?: string; uid?: string; generation?: number; annotations?: Record<string, string> };
  spec?: { selector?: LabelSelector; template?: PodTemplate; paused?: boolean };
}

export interface Revision {
  revision: number;
  /** ReplicaSet or ControllerRevision name. */
  source: string;
  images: string[];
  changeCause: string;
  /** The pod template as that revision recorded it (Deployments), or the revision's patch (StatefulSet/DaemonSet). */
  template?: PodTemplate;
  patch?: unknown;
}

interface Owned {
  metadata?: { name?: string; annotations?: Record<string, string>; ownerReferences?: Array<{ uid?: string }> };
  spec?: { template?: PodTemplate };
  revision?: number;
  data?: { spec?: { template?: PodTemplate } };
}

export function imagesOf(t: PodTemplate | undefined): string[] {
  return (t?.spec?.containers ?? []).map((c) => `${c.name}=${c.image}`);
}

/** A workload's revisions, oldest first: ReplicaSets for a Deployment, ControllerRevisions for the others. */
export async function revisionsOf(ctx: ToolContext, kind: RolloutKind, ns: string, w: Workload): Promise<Revision[]> {
  const rest = ctx.clients().rest;
  const sel = selectorString(w.spec?.selector);
  const mine = (o: Owned) => o.metadata?.ownerReferences?.some((r) => r.uid === w.metadata?.uid);
  if (kind === 'Deployment') {
    const rss = await listAll<Owned>(rest, resourcePath(REPLICASETS, ns), { cap: 1000, labelSelector: sel, signal: ctx.signal });
    return rss.items
      .filter(mine)
      .map((r) => ({ revision: Number(r.metadata?.annotations?.[REVISION] ?? 0), source: r.metadata?.name ?? '', images: imagesOf(r.spec?.template), changeCause: r.metadata?.annotations?.[CHANGE_CAUSE] ?? '', ...(r.spec?.template ? { template: r.spec.template } : {}) }))
      .sort((x, y) => x.revision - y.revision);
  }
  const crs = await listAll<Owned>(rest, resourcePath(CONTROLLER_REVISIONS, ns), { cap: 1000, labelSelector: sel, signal: ctx.signal });
  return crs.items
    .filter(mine)
    .map((c) => ({ revision: c.revision ?? 0, source: c.metadata?.name ?? '', images: imagesOf(c.data?.spec?.template), changeCause: c.metadata?.annotations?.[CHANGE_CAUSE] ?? '', patch: c.data }))
    .sort((x, y) => x.revision - y.revision);
}

export async function getWorkload(ctx: ToolContext, kind: RolloutKind, ns: string, name: string): Promise<Workload> {
  return ctx.clients().rest.get<Workload>(resourcePath(ROLLOUT_RESOURCES[kind], ns, name), { signal: ctx.signal });
}

/** The revision to roll back to: the one asked for, or the one before the current (highest). */
export function pickRevision(revisions: Revision[], to: number | undefined): Revision {
  if (!revisions.length) throw new ToolRefusal('no rollout history: the controller has recorded no revisions for this workload');
  if (to !== undefined) {
    const r = revisions.find((x) => x.revision === to);
    if (!r) throw new ToolRefusal(`revision ${to} not found; revisions are: ${revisions.map((x) => x.revision).join(', ')}`);
    return r;
  }
  if (revisions.length < 2) throw new ToolRefusal(`only revision ${revisions[0]!.revision} exists: there is nothing to roll back to`);
  return revisions[revisions.length - 2]!;
}

/** A ReplicaSet's template carries its pod-template-hash label, which the Deployment's must not. */
export function templateForDeployment(t: PodTemplate): PodTemplate {
  const copy = structuredClone(t);
  if (copy.metadata?.labels) delete copy.metadata.labels['pod-template-hash'];
  return copy;
}
