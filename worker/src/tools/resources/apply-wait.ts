import { KubeApiError } from '../../k8s/errors.js';
import type { ToolContext } from '../define.js';
import { rolloutState } from '../rollout/status.js';
import { sleep } from '../wait.js';
import type { KubeObject } from './common.js';

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

/** What a wait looks for on one kind of object, and whether it holds now. */
export interface Readiness {
  /** "rolled out", "Ready", "complete": said in the result, so the model knows what was waited for. */
  waitFor: string;
  done: boolean;
  /** A final state that is not success (a failed Job): waiting longer would not help. */
  failed?: boolean;
  message: string;
}

function conditions(o: KubeObject): Condition[] {
  const s = o.status as { conditions?: unknown } | undefined;
  return Array.isArray(s?.conditions) ? (s.conditions as Condition[]) : [];
}

function condition(o: KubeObject, type: string): Condition | undefined {
  return conditions(o).find((c) => c.type === type);
}

function because(c: Condition | undefined): string {
  return c ? ` (${[c.reason, c.message].filter(Boolean).join(': ') || `${c.type}=${c.status}`})` : '';
}

/**
 * The readiness a wait after apply is meaningful for: workloads rolled out (what rollout_status judges), Pods
 * Ready, Jobs complete, and any object with a Ready condition (most operators' CRDs) Ready for its current
 * generation. Undefined for objects with no such state (ConfigMap, Service, RBAC): nothing to wait for.
 */
export function readiness(o: KubeObject): Readiness | undefined {
  const name = o.metadata?.name ?? '';
  const kind = o.kind ?? '';
  if (kind === 'Deployment' || kind === 'StatefulSet' || kind === 'DaemonSet') return { waitFor: 'rolled out', ...rolloutState(kind, name, o as Parameters<typeof rolloutState>[2]) };
  if (kind === 'Pod') {
    const ready = condition(o, 'Ready');
    const phase = (o.status as { phase?: string } | undefined)?.phase;
    if (phase === 'Failed' || phase === 'Succeeded') return { waitFor: 'Ready', done: phase === 'Succeeded', failed: phase === 'Failed', message: `pod "${name}" ${phase}` };
    return ready?.status === 'True'
      ? { waitFor: 'Ready', done: true, message: `pod "${name}" is Ready` }
      : { waitFor: 'Ready', done: false, message: `pod "${name}" is not Ready yet (phase ${phase ?? 'unknown'})${because(ready)}` };
  }
  if (kind === 'Job') {
    const failed = condition(o, 'Failed');
    if (failed?.status === 'True') return { waitFor: 'complete', done: false, failed: true, message: `job "${name}" failed${because(failed)}` };
    if (condition(o, 'Complete')?.status === 'True') return { waitFor: 'complete', done: true, message: `job "${name}" completed` };
    const s = (o.status ?? {}) as { active?: number; succeeded?: number };
    return { waitFor: 'complete', done: false, message: `job "${name}" not complete yet (${s.active ?? 0} active, ${s.succeeded ?? 0} succeeded)` };
  }
  const ready = condition(o, 'Ready');
  if (!ready) return undefined;
  const generation = (o.metadata as { generation?: number } | undefined)?.generation;
  const observed = (o.status as { observedGeneration?: number } | undefined)?.observedGeneration;
  if (generation !== undefined && observed !== undefined && observed < generation) return { waitFor: 'Ready', done: false, message: `${kind.toLowerCase()} "${name}": its controller has not seen generation ${generation} yet` };
  return ready.status === 'True'
    ? { waitFor: 'Ready', done: true, message: `${kind.toLowerCase()} "${name}" is Ready` }
    : { waitFor: 'Ready', done: false, message: `${kind.toLowerCase()} "${name}" is not Ready${because(ready)}` };
}

export interface WaitTarget {
  /** "deployment/web in team-a" */
  ref: string;
  path: string;
}

export interface WaitOutcome {
  ref: string;
  /** Undefined: nothing to wait for on this kind. */
  waitFor?: string;
  done: boolean;
  failed: boolean;
  message: string;
  waitedSeconds: number;
}

/**
 * Polls every target (once a second) until each is done, failed or has nothing to wait for, or `seconds` have
 * passed in all (one deadline for the whole manifest). Each outcome says what was waited for and the last state.
 */
export async function waitApplied(ctx: ToolContext, targets: readonly WaitTarget[], seconds: number): Promise<WaitOutcome[]> {
  const started = Date.now();
  const deadline = started + seconds * 1000;
  const outcomes = new Map<string, WaitOutcome>();
  for (;;) {
    for (const t of targets) {
      const o = outcomes.get(t.path);
      if (o && (o.done || o.failed || !o.waitFor)) continue;
      const waitedSeconds = Math.round((Date.now() - started) / 1000);
      let obj: KubeObject;
      try {
        obj = await ctx.clients().rest.get<KubeObject>(t.path, { signal: ctx.signal });
      } catch (err) {
        // The objects are applied already: one that cannot be read (deleted meanwhile, not readable by the user)
        // ends its own wait, never the result that says what was applied.
        if (!(err instanceof KubeApiError) || err.status === 401) throw err;
        const why = err.status === 404 ? 'it was deleted while waiting' : `it cannot be read (${err.toToolText()})`;
        outcomes.set(t.path, { ref: t.ref, waitFor: o?.waitFor ?? 'readable', done: false, failed: true, message: why, waitedSeconds });
        continue;
      }
      const r = readiness(obj);
      outcomes.set(t.path, r ? { ref: t.ref, waitFor: r.waitFor, done: r.done, failed: r.failed ?? false, message: r.message, waitedSeconds } : { ref: t.ref, done: true, failed: false, message: 'nothing to wait for', waitedSeconds: 0 });
    }
    const pending = [...outcomes.values()].some((o) => !o.done && !o.failed);
    if (!pending || Date.now() + 1000 > deadline || ctx.signal.aborted) return targets.map((t) => outcomes.get(t.path)!);
    await sleep(1000, ctx.signal);
  }
}

/** "pod/p in ns: Ready after 3s" / "deployment/web in ns: not rolled out when the 5s wait ran out: Waiting for ..." */
export function waitLine(o: WaitOutcome, seconds: number): string {
  if (!o.waitFor) return `${o.ref}: nothing to wait for (no rollout or Ready state)`;
  if (o.done) return `${o.ref}: ${o.waitFor}${o.waitedSeconds ? ` after ${o.waitedSeconds}s` : ''} (${o.message})`;
  if (o.failed) return `${o.ref}: will not become ${o.waitFor}: ${o.message}`;
  return `${o.ref}: not ${o.waitFor} when the ${seconds}s wait ran out: ${o.message}`;
}
