import { resourcePath } from '../../k8s/discovery.js';
import { ToolRefusal } from '../../k8s/errors.js';
import { age } from '../../output/format.js';
import type { ToolContext } from '../define.js';
import { EVENTS } from '../resources/common.js';

/** A core/v1 Event, the fields we read. */
export interface KubeEvent {
  metadata?: { name?: string; namespace?: string; creationTimestamp?: string };
  involvedObject?: { kind?: string; name?: string; namespace?: string; uid?: string };
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  series?: { count?: number; lastObservedTime?: string };
  source?: { component?: string };
  reportingComponent?: string;
}

/** When an event was last seen: series, then lastTimestamp, eventTime, firstTimestamp, creation. */
export function lastSeen(e: KubeEvent): string | undefined {
  return e.series?.lastObservedTime || e.lastTimestamp || e.eventTime || e.firstTimestamp || e.metadata?.creationTimestamp || undefined;
}

export function firstSeen(e: KubeEvent): string | undefined {
  return e.firstTimestamp || e.eventTime || e.metadata?.creationTimestamp || lastSeen(e);
}

function ms(t: string | undefined): number {
  const v = t ? Date.parse(t) : NaN;
  return Number.isNaN(v) ? 0 : v;
}

export interface EventQuery {
  namespace?: string;
  fieldSelector?: string;
  /** Seconds: only events last seen this recently. */
  sinceSeconds?: number;
  /** Stop reading after this many events (pages of 500). */
  readCap: number;
}

export interface EventRead {
  events: KubeEvent[];
  /** Events the apiserver returned (before the `since` filter). */
  read: number;
  /** False when the read cap stopped before the last page. */
  complete: boolean;
  /** The apiserver's estimate of events not read, when it gave one. */
  remaining?: number;
}

const PAGE = 500;

/**
 * Reads events page by page up to a cap. The apiserver returns them in key order (namespace,
 * name), not by time, so "recent" needs all pages: the result says how many were read and
 * whether that was all of them.
 */
export async function readEvents(ctx: ToolContext, q: EventQuery): Promise<EventRead> {
  const rest = ctx.clients().rest;
  const path = resourcePath(EVENTS, q.namespace);
  const out: KubeEvent[] = [];
  let read = 0;
  let cont: string | undefined;
  let remaining: number | undefined;
  do {
    const page = await rest.get<{ items?: KubeEvent[]; metadata?: { continue?: string; remainingItemCount?: number } }>(path, {
      query: { fieldSelector: q.fieldSelector, limit: Math.min(PAGE, q.readCap - read), continue: cont },
      signal: ctx.signal,
    });
    const items = page.items ?? [];
    read += items.length;
    out.push(...items);
    cont = page.metadata?.continue || undefined;
    remaining = page.metadata?.remainingItemCount;
  } while (cont && read < q.readCap);
  const cutoff = q.sinceSeconds !== undefined ? Date.now() - q.sinceSeconds * 1000 : undefined;
  const events = cutoff === undefined ? out : out.filter((e) => ms(lastSeen(e)) >= cutoff);
  return { events, read, complete: !cont, ...(cont && remaining !== undefined ? { remaining } : {}) };
}

/** Repeats of one event (same object, type, reason and message), folded. */
export interface FoldedEvent {
  namespace: string;
  object: string;
  type: string;
  reason: string;
  message: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  from: string;
}

export function foldEvents(events: KubeEvent[]): FoldedEvent[] {
  const byKey = new Map<string, FoldedEvent>();
  for (const e of events) {
    const namespace = e.metadata?.namespace ?? e.involvedObject?.namespace ?? '';
    const object = `${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}`;
    const message = (e.message ?? '').trim();
    const key = JSON.stringify([namespace, object, e.type, e.reason, message]);
    const count = e.series?.count ?? e.count ?? 1;
    const first = firstSeen(e) ?? '';
    const last = lastSeen(e) ?? '';
    const prev = byKey.get(key);
    if (!prev) {
      byKey.set(key, { namespace, object, type: e.type ?? '', reason: e.reason ?? '', message, count, firstSeen: first, lastSeen: last, from: e.source?.component || e.reportingComponent || '' });
      continue;
    }
    prev.count += count;
    if (first && (!prev.firstSeen || ms(first) < ms(prev.firstSeen))) prev.firstSeen = first;
    if (ms(last) > ms(prev.lastSeen)) prev.lastSeen = last;
  }
  return [...byKey.values()].sort((a, b) => ms(b.lastSeen) - ms(a.lastSeen));
}

/** Newest first, the order an SRE reads events in. */
export function sortNewestFirst(events: KubeEvent[]): KubeEvent[] {
  return [...events].sort((a, b) => ms(lastSeen(b)) - ms(lastSeen(a)));
}

export const EVENT_COLUMNS = ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'COUNT', 'FIRST SEEN', 'MESSAGE'];

export function foldedCells(f: FoldedEvent, now = Date.now()): string[] {
  return [age(f.lastSeen, now), f.type, f.reason, f.object, String(f.count), age(f.firstSeen, now), f.message];
}

/** One structured row per folded event: the columns of the text, with timestamps instead of ages. */
export function foldedRow(f: FoldedEvent): Record<string, string> {
  return { namespace: f.namespace, lastSeen: f.lastSeen, type: f.type, reason: f.reason, object: f.object, count: String(f.count), firstSeen: f.firstSeen, message: f.message };
}

/** "read all 123 events" / "read the first 5000 events (about 2000 more not read)". */
export function readNote(r: EventRead): string {
  if (r.complete) return `read all ${r.read} events`;
  return `read the first ${r.read} events in key order${r.remaining !== undefined ? ` (about ${r.remaining} more not read)` : ''}, so newer ones may be missing; narrow with namespace, type, reason or fieldSelector`;
}

/** Parses "30s", "15m", "2h", "1d" (or plain seconds) into seconds. */
export function parseSince(s: string): number {
  const m = /^(\d+)(s|m|h|d)?$/.exec(s.trim());
  if (!m) throw new ToolRefusal(`since must look like 30s, 15m, 2h or 1d, not "${s}"`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
}
