import { ToolRefusal } from '../../k8s/errors.js';

/** kubectl's annotation naming the container `logs` and `exec` use when none is given. */
export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

export interface PodContainers {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: { containers?: Array<{ name: string }>; initContainers?: Array<{ name: string }>; ephemeralContainers?: Array<{ name: string }> };
}

export interface ChosenContainer {
  name: string;
  /** Why this one, when the pod has several (told to the model). */
  note?: string;
}

/** The container kubectl would pick: the default-container annotation when it names one of the pod's containers, else the first. */
export function defaultContainer(pod: PodContainers): ChosenContainer {
  const containers = pod.spec?.containers ?? [];
  const ref = `pod ${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? '?'}`;
  if (!containers.length) throw new ToolRefusal(`${ref} has no containers`);
  const annotated = pod.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  const all = [...containers, ...(pod.spec?.initContainers ?? [])].map((c) => c.name);
  if (annotated && all.includes(annotated)) {
    return { name: annotated, ...(containers.length > 1 ? { note: `container ${annotated} (the pod's ${DEFAULT_CONTAINER_ANNOTATION} annotation; others: ${others(all, annotated)})` } : {}) };
  }
  const first = containers[0]!.name;
  if (containers.length === 1) return { name: first };
  const why = annotated ? `its ${DEFAULT_CONTAINER_ANNOTATION} annotation names "${annotated}", which is not a container; ` : '';
  return { name: first, note: `container ${first} (${why}the first of ${containers.length}; others: ${others(all, first)}; name one with container)` };
}

function others(all: string[], but: string): string {
  return all.filter((n) => n !== but).join(', ');
}

/** Init containers first (they run first), then the app containers: what allContainers reads. */
export function allContainerNames(pod: PodContainers): string[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name);
}
