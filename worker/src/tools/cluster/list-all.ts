import type { KubeRest } from '../../k8s/rest.js';

export interface ReadAll<T> {
  items: T[];
  /** False when the cap stopped before the last page. */
  complete: boolean;
}

/** Reads a collection in pages of 500 up to `cap` items (a health report needs every node and pod, not the first page). */
export async function listAll<T>(rest: KubeRest, path: string, opts: { cap: number; fieldSelector?: string; labelSelector?: string; signal?: AbortSignal }): Promise<ReadAll<T>> {
  const items: T[] = [];
  let cont: string | undefined;
  do {
    const page = await rest.get<{ items?: T[]; metadata?: { continue?: string } }>(path, {
      query: { limit: Math.min(500, opts.cap - items.length), continue: cont, fieldSelector: opts.fieldSelector, labelSelector: opts.labelSelector },
      signal: opts.signal,
    });
    items.push(...(page.items ?? []));
    cont = page.metadata?.continue || undefined;
  } while (cont && items.length < opts.cap);
  return { items, complete: !cont };
}
