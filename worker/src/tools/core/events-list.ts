import { z } from 'zod';
import { renderColumnLines, slimObject } from '../../output/format.js';
import { clusterArg, fieldSelectorArg, formatArg, namespaceArg } from '../args.js';
import { defineTool, READ } from '../define.js';
import { listOutputSchema } from '../resources/common.js';
import { EVENT_COLUMNS, foldedCells, foldedRow, foldEvents, parseSince, readEvents, readNote, sortNewestFirst } from './events.js';

export const eventsList = defineTool({
  name: 'events_list',
  title: 'Events: List',
  description:
    'Recent events, newest first across namespaces, with repeats folded (count, first and last seen). Filter by type (Warning), reason (BackOff, FailedScheduling), object kind/name, a field selector, and since ("30m"). Reads up to readCap events and says how many it read.',
  input: z.object({
    cluster: clusterArg,
    namespace: namespaceArg,
    type: z.enum(['Normal', 'Warning']).optional().describe('Only events of this type.'),
    reason: z.string().optional().describe('Only events with this reason, e.g. "BackOff", "FailedScheduling", "Unhealthy".'),
    objectKind: z.string().optional().describe('Only events about objects of this kind, e.g. "Pod".'),
    objectName: z.string().optional().describe('Only events about the object with this name.'),
    fieldSelector: fieldSelectorArg.describe('Extra field selector on events, e.g. "involvedObject.uid=...,source=kubelet".'),
    since: z.string().optional().describe('Only events last seen within this duration, e.g. "30m", "2h", "1d".'),
    fold: z.boolean().default(true).describe('Fold repeats of the same event (object, type, reason, message) into one row with count and first/last seen. Default true.'),
    limit: z.number().int().min(1).max(1000).default(50).describe('Show at most this many (folded) events, newest first. Default 50.'),
    readCap: z.number().int().min(100).max(20_000).default(5000).describe('Read at most this many events from the apiserver (pages of 500). Default 5000.'),
    format: formatArg.describe('"summary" (default) = a table; "normal"/"full" = the newest events as YAML (not folded).'),
  }),
  output: listOutputSchema.extend({
    read: z.number().int().describe('Events read from the apiserver.'),
    readAll: z.boolean().describe('Whether that was every event matching the selectors.'),
    matched: z.number().int().describe('Events (folded: distinct events) after the since filter, before limit.'),
  }),
  annotations: READ,
  kinds: () => ['Event'],
  async run(a, ctx) {
    const selectors = [
      a.type ? `type=${a.type}` : '',
      a.reason ? `reason=${a.reason}` : '',
      a.objectKind ? `involvedObject.kind=${a.objectKind}` : '',
      a.objectName ? `involvedObject.name=${a.objectName}` : '',
      a.fieldSelector ?? '',
    ].filter(Boolean);
    const r = await readEvents(ctx, { namespace: a.namespace, fieldSelector: selectors.join(',') || undefined, sinceSeconds: a.since ? parseSince(a.since) : undefined, readCap: a.readCap });
    const scope = a.namespace ? `in namespace ${a.namespace}` : 'in all namespaces';
    const format = a.format ?? 'summary';
    const base = { kind: 'Event', read: r.read, readAll: r.complete };
    const note = `${readNote(r)}${a.since ? `; since ${a.since}` : ''}`;
    if (format !== 'summary') {
      const newest = sortNewestFirst(r.events);
      const shown = newest.slice(0, a.limit).map((e) => slimObject({ apiVersion: 'v1', kind: 'Event', ...e }, format));
      return {
        data: shown,
        listItemsOf: 'Event',
        list: {
          header: (k, cut) => `# ${k}${cut ? ' (cut by the byte budget)' : ''} of ${newest.length} events ${scope}, newest first (${note})\n`,
          rows: shown.map((e) => ({ namespace: e.metadata?.namespace ?? '', name: e.metadata?.name ?? '' })),
          structured: { ...base, matched: newest.length },
          noun: 'events',
        },
      };
    }
    const rows = a.fold
      ? foldEvents(r.events)
      : sortNewestFirst(r.events).map((e) => foldEvents([e])[0]!);
    const shown = rows.slice(0, a.limit);
    const headers = a.namespace ? EVENT_COLUMNS : ['NAMESPACE', ...EVENT_COLUMNS];
    const now = Date.now();
    const { columns, lines } = renderColumnLines(headers, shown.map((f) => (a.namespace ? foldedCells(f, now) : [f.namespace, ...foldedCells(f, now)])));
    const what = a.fold ? 'distinct events' : 'events';
    return {
      list: {
        header: (k, cut) =>
          shown.length
            ? `# newest first: ${k}${cut ? ' (cut by the byte budget)' : ''} of ${rows.length} ${what} ${scope} (${note})${rows.length > shown.length && !cut ? `; raise limit to see ${rows.length - shown.length} older` : ''}\n`
            : `No events found ${scope} (${note}).`,
        ...(shown.length ? { columns } : {}),
        lines,
        rows: shown.map(foldedRow),
        structured: { ...base, matched: rows.length },
        noun: what,
      },
      truncationHint: 'Or narrow with namespace, type, reason, objectName or since.',
    };
  },
});
