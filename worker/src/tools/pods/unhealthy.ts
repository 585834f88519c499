import { resourcePath } from '../../k8s/discovery.js';
import { ToolRefusal } from '../../k8s/errors.js';
import { slimObject, TABLE_ACCEPT, type KubeTable } from '../../output/format.js';
import { podHealth, type PodLike } from '../cluster/pod-health.js';
import type { ToolContext, ToolOutput } from '../define.js';
import { PODS, type ListOptions } from '../resources/common.js';
import { assertViewFitsFormat, viewTable } from '../resources/list-view.js';

/** Pods read per apiserver page, and per call, while looking for unhealthy ones. */
export const SCAN_PAGE = 500;
export const SCAN_CAP = 5_000;

/**
 * Where a scan resumes: the apiserver continue token of a page (empty = the first page) and how many of that
 * page's pods were already gone through. Exact: a continue token pins the list's resourceVersion, so rereading
 * the page yields the same pods.
 */
const CURSOR = /^kmg-unhealthy\.(\d+)\.(.*)$/s;

export function encodeCursor(token: string | undefined, skip: number): string {
  return `kmg-unhealthy.${skip}.${token ?? ''}`;
}

export function decodeCursor(s: string | undefined): { token?: string; skip: number } {
  if (!s) return { skip: 0 };
  const m = CURSOR.exec(s);
  if (!m) return { token: s, skip: 0 };
  return { token: m[2] || undefined, skip: Number(m[1]) };
}

/** A continue token from an unhealthy scan means nothing to the apiserver: say which call it belongs to. */
export function assertPlainContinue(token: string | undefined): void {
  if (token && CURSOR.test(token)) throw new ToolRefusal('continue: this token came from pods_list with unhealthy=true; pass unhealthy=true with it');
}


type TableRow = KubeTable['rows'][number];

/**
 * Pods with a problem (pod-health.ts: waiting in CrashLoopBackOff/ImagePullBackOff, not Ready, failed, stuck Pending,
 * recent restarts), read page by page up to SCAN_CAP pods, up to `limit` of them shown.
 */
export async function listUnhealthyPods(ctx: ToolContext, o: ListOptions): Promise<ToolOutput> {
  assertViewFitsFormat(o, o.format);
  const rest = ctx.clients().rest;
  const allNamespaces = !o.namespace;
  const scope = o.namespace ? ` in namespace ${o.namespace}` : ' in all namespaces';
  const start = decodeCursor(o.continue);
  let token = start.token;
  let skip = start.skip;
  let read = 0;
  let next: string | undefined;
  const found: TableRow[] = [];
  let columnDefinitions: KubeTable['columnDefinitions'] = [];
  const now = Date.now();
  for (;;) {
    const table = await rest.get<KubeTable>(resourcePath(PODS, o.namespace), {
      query: { labelSelector: o.labelSelector, fieldSelector: o.fieldSelector, limit: SCAN_PAGE, continue: token, includeObject: 'Object' },
      accept: TABLE_ACCEPT,
      signal: ctx.signal,
    });
    if (!Array.isArray(table.rows)) throw new ToolRefusal('the apiserver did not return a table for pods');
    columnDefinitions = table.columnDefinitions;
    const rows = table.rows;
    let i = skip;
    for (; i < rows.length && found.length < o.limit; i++) {
      read++;
      if (podHealth(rows[i]!.object as PodLike, now).problem) found.push(rows[i]!);
    }
    const pageToken = token;
    token = table.metadata?.continue || undefined;
    skip = 0;
    if (i < rows.length) {
      next = encodeCursor(pageToken, i);
      break;
    }
    if (!token) break;
    if (read >= SCAN_CAP || found.length >= o.limit) {
      next = encodeCursor(token, 0);
      break;
    }
  }
  const n = found.length;
  const health = (obj: unknown) => podHealth(obj as PodLike, now).problem;
  const more = next ? `; more pods remain: pass continue="${next}" (with unhealthy=true) to go on` : '';
  const header = (shown: number, cut: boolean): string => {
    if (cut) return `# ${shown} of the ${n} unhealthy pods found among ${read} pods read${scope} (the byte budget cut it; see the note at the end)\n`;
    if (!n) return `No unhealthy pods among the ${read} pods read${scope}${more}.`;
    return `# ${n} unhealthy pods among the ${read} pods read${scope}${more}\n`;
  };
  const list = {
    header,
    rows: [] as Array<Record<string, string>>,
    structured: { kind: 'Pod', podsRead: read, ...(next ? { continue: next } : {}) },
    ...(o.continue ? { readWith: o.continue } : {}),
    noun: 'unhealthy pods',
  };
  const truncationHint = 'Or narrow with namespace/labelSelector, or use fields to show fewer columns.';
  if (o.format === 'summary') {
    const view = viewTable({ columnDefinitions, rows: found }, { ...o, namespaceColumn: allNamespaces, typeMeta: { apiVersion: 'v1', kind: 'Pod' } }, [{ header: 'PROBLEM', key: 'problem', cell: health }]);
    return { list: { ...list, columns: n ? view.columns : undefined, lines: view.lines, rows: view.rows }, truncationHint };
  }
  const objects = found.map((r) => r.object as PodLike & { metadata?: { namespace?: string; name?: string; uid?: string } });
  const items = objects.map((obj) => {
    const item = slimObject({ apiVersion: 'v1', kind: 'Pod', ...obj }, o.format);
    if (o.format === 'normal' && item.metadata) {
      if (o.namespace) delete item.metadata.namespace;
      delete item.metadata.uid;
    }
    return item;
  });
  const rows = objects.map((obj) => ({ ...(obj.metadata?.namespace ? { namespace: obj.metadata.namespace } : {}), name: obj.metadata?.name ?? '', problem: health(obj) }));
  return { list: { ...list, rows }, data: items, ...(o.format === 'normal' ? { listItemsOf: 'Pod' } : {}), truncationHint };
}
