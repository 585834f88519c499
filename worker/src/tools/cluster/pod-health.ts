/** The container and pod fields a health judgement reads. */
export interface ContainerStatus {
  name?: string;
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number }; running?: { startedAt?: string } };
  lastState?: { terminated?: { reason?: string; exitCode?: number; finishedAt?: string } };
}

export interface PodLike {
  metadata?: { name?: string; namespace?: string; creationTimestamp?: string; deletionTimestamp?: string };
  spec?: { nodeName?: string; containers?: unknown[] };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: Array<{ type?: string; status?: string; reason?: string }>;
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

/** Waiting reasons that are a normal moment of a start, not a problem. */
const STARTING = new Set(['ContainerCreating', 'PodInitializing']);
const RECENT_MS = 60 * 60_000;

export interface PodHealth {
  namespace: string;
  name: string;
  phase: string;
  ready: string;
  restarts: number;
  /** "app: CrashLoopBackOff; app last exit OOMKilled (137)"; empty when healthy. */
  problem: string;
  /** Sort key: 3 = waiting in a back-off or config error, 2 = failed/unknown/not Ready, 1 = recent restarts. */
  severity: number;
}

/**
 * What is wrong with a pod, the way an SRE reads `kubectl get pods`: CrashLoopBackOff and
 * not-Ready pods are in phase Running, so the phase alone hides them.
 */
export function podHealth(p: PodLike, now = Date.now()): PodHealth {
  const s = p.status ?? {};
  const all = [...(s.initContainerStatuses ?? []), ...(s.containerStatuses ?? [])];
  const main = s.containerStatuses ?? [];
  const problems: string[] = [];
  let severity = 0;
  for (const c of all) {
    const waiting = c.state?.waiting?.reason;
    if (waiting && !STARTING.has(waiting)) {
      problems.push(`${c.name}: ${waiting}`);
      severity = Math.max(severity, 3);
    }
    const last = c.lastState?.terminated;
    if (last && (last.reason === 'OOMKilled' || (last.exitCode ?? 0) !== 0)) {
      const recent = !last.finishedAt || now - Date.parse(last.finishedAt) < RECENT_MS;
      if (recent || waiting) {
        problems.push(`${c.name} last exit ${last.reason ?? 'Error'} (${last.exitCode ?? '?'})`);
        severity = Math.max(severity, 1);
      }
    }
    const term = c.state?.terminated;
    if (term && (term.exitCode ?? 0) !== 0 && s.phase !== 'Succeeded') {
      problems.push(`${c.name} exited ${term.reason ?? 'Error'} (${term.exitCode})`);
      severity = Math.max(severity, 2);
    }
  }
  const phase = s.phase ?? '';
  if (phase === 'Failed' || phase === 'Unknown') {
    problems.unshift(`${phase}${s.reason ? `: ${s.reason}` : ''}`);
    severity = Math.max(severity, 2);
  } else if (phase === 'Pending' && !problems.length) {
    const sched = s.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    const ageMs = now - Date.parse(p.metadata?.creationTimestamp ?? '');
    if (sched || ageMs > 5 * 60_000) {
      problems.push(sched ? `Pending: ${sched.reason ?? 'Unschedulable'}` : 'Pending for over 5m');
      severity = Math.max(severity, 2);
    }
  } else if (phase === 'Running' && !p.metadata?.deletionTimestamp) {
    const readyCond = s.conditions?.find((c) => c.type === 'Ready');
    if (readyCond && readyCond.status !== 'True') {
      problems.push('not Ready');
      severity = Math.max(severity, 2);
    }
  }
  const restarts = main.reduce((n, c) => n + (c.restartCount ?? 0), 0);
  const total = main.length || (p.spec?.containers?.length ?? 0);
  return {
    namespace: p.metadata?.namespace ?? '',
    name: p.metadata?.name ?? '',
    phase,
    ready: `${main.filter((c) => c.ready).length}/${total}`,
    restarts,
    problem: problems.join('; '),
    severity,
  };
}
