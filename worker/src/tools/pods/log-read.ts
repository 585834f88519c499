import { z } from 'zod';
import { resourcePath } from '../../k8s/discovery.js';
import { KubeApiError, ToolRefusal } from '../../k8s/errors.js';
import type { ToolContext } from '../define.js';
import { mapLimit } from '../map-limit.js';
import { PODS } from '../resources/common.js';

/** Lines fetched from the end of each log when grepping, so matches older than `tail` lines are still found. */
export const GREP_SCAN_LINES = 20_000;

export function parseDuration(s: string): number {
  const m = /^(\d+)(s|m|h|d)?$/.exec(s.trim());
  if (!m) throw new ToolRefusal(`since must look like 30s, 15m, 2h or 1d, not "${s}"`);
  const n = Number(m[1]);
  return n * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
}

/** One log line; `time` is the apiserver's RFC 3339 stamp when one was asked for. */
export interface LogEntry {
  time?: string;
  text: string;
}

export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** "2026-01-01T00:00:02.5Z message" → time + text (the kubelet's `timestamps=true` format). */
export function splitStamp(line: string): LogEntry {
  const sp = line.indexOf(' ');
  const time = sp > 0 ? line.slice(0, sp) : '';
  return Number.isNaN(Date.parse(time)) ? { text: line } : { time, text: line.slice(sp + 1) };
}

/** Keeps entries whose text matches a regex (server-side grep), then the last `tail` of them. */
export function grepEntries(entries: LogEntry[], pattern: RegExp | undefined, tail: number): { entries: LogEntry[]; matched: number; scanned: number } {
  const kept = pattern ? entries.filter((e) => pattern.test(e.text)) : entries;
  return { entries: kept.slice(-tail), matched: kept.length, scanned: entries.length };
}

/** grepEntries over plain text lines (for logs read without timestamps, e.g. nodes_log). */
export function grepLines(text: string, pattern: RegExp | undefined, tail: number): { lines: string[]; matched: number; scanned: number } {
  const r = grepEntries(splitLines(text).map((t) => ({ text: t })), pattern, tail);
  return { lines: r.entries.map((e) => e.text), matched: r.matched, scanned: r.scanned };
}

/** The log-window arguments pods_log and workload_logs share. */
export const logWindowArgs = {
  since: z.string().optional().describe('Only lines newer than this duration, e.g. "10m", "2h".'),
  sinceTime: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('Only lines at or after this RFC 3339 time, e.g. "2026-03-01T10:00:00Z". Use instead of since.'),
  previous: z.boolean().default(false).describe("The previous (crashed) container instance's log."),
  grep: z.string().optional().describe('Regular expression; only matching lines are returned. Each log is searched over its last 20,000 lines (within since/sinceTime), and the result says how many lines were searched.'),
  ignoreCase: z.boolean().default(false).describe('Make grep case-insensitive.'),
  timestamps: z.boolean().default(false).describe('Prefix each line with its RFC 3339 timestamp.'),
};

export interface LogWindow {
  tail: number;
  since?: string;
  sinceTime?: string;
  previous: boolean;
  grep?: string;
  ignoreCase: boolean;
  timestamps: boolean;
}

export function grepPattern(w: Pick<LogWindow, 'grep' | 'ignoreCase'>): RegExp | undefined {
  if (!w.grep) return undefined;
  try {
    return new RegExp(w.grep, w.ignoreCase ? 'i' : '');
  } catch (err) {
    throw new ToolRefusal(`grep is not a valid regular expression: ${(err as Error).message}`);
  }
}

export function assertOneSince(w: Pick<LogWindow, 'since' | 'sinceTime'>): void {
  if (w.since && w.sinceTime) throw new ToolRefusal('since and sinceTime: give one of them, not both');
  if (w.since) parseDuration(w.since);
}

export interface LogRead {
  entries: LogEntry[];
  matched: number;
  /** Lines the grep went through (all lines read). */
  scanned: number;
  /** The read stopped at the byte cap before the end of the window. */
  truncated: boolean;
}

/**
 * One container's log, tailed (or grepped over the last GREP_SCAN_LINES lines) as the window says. `stamped`
 * asks for timestamps even when the caller did not (to merge several logs by time); grep never sees them.
 */
export async function readContainerLog(ctx: ToolContext, ns: string, pod: string, container: string | undefined, w: LogWindow, pattern: RegExp | undefined, maxBytes: number, stamped = w.timestamps): Promise<LogRead> {
  const res = await ctx.clients().rest.request('GET', resourcePath(PODS, ns, pod, 'log'), {
    query: {
      container,
      tailLines: pattern ? Math.max(GREP_SCAN_LINES, w.tail) : w.tail,
      sinceSeconds: w.since ? parseDuration(w.since) : undefined,
      sinceTime: w.sinceTime,
      previous: w.previous || undefined,
      timestamps: stamped || undefined,
    },
    accept: '*/*',
    maxBytes,
    signal: ctx.signal,
  });
  const lines = splitLines(res.text);
  return { ...grepEntries(stamped ? lines.map(splitStamp) : lines.map((text) => ({ text })), pattern, w.tail), truncated: res.truncated };
}

const n = (x: number) => x.toLocaleString('en-US');

/**
 * The window a grep searched, stated: "matched 12 of the last 20,000 lines", "matched 3 of all 340 lines",
 * or for several logs "matched 5 of 1,200 lines read from 4 logs (all of each)".
 */
export function grepWindowText(reads: Array<Pick<LogRead, 'matched' | 'scanned'>>, w: Pick<LogWindow, 'since' | 'sinceTime'>): string {
  const matched = reads.reduce((k, r) => k + r.matched, 0);
  const scanned = reads.reduce((k, r) => k + r.scanned, 0);
  const within = w.since ? ` of the last ${w.since}` : w.sinceTime ? ` since ${w.sinceTime}` : '';
  const atCap = reads.some((r) => r.scanned >= GREP_SCAN_LINES);
  if (reads.length === 1) return `matched ${n(matched)} of ${atCap ? 'the last' : 'all'} ${n(scanned)} lines${within}`;
  return `matched ${n(matched)} of ${n(scanned)} lines read from ${reads.length} logs (${atCap ? `the last ${n(GREP_SCAN_LINES)} lines of each at most` : 'all lines of each'}${within})`;
}

/**
 * Several logs as one: merged by time (stable, so lines of one log keep their order), each line prefixed with
 * `[source]`, stamps kept only when asked for.
 */
export function mergeLogs(sources: Array<{ prefix: string; entries: LogEntry[] }>, keepStamps: boolean): string[] {
  const tagged = sources.flatMap((s, si) => s.entries.map((e, i) => ({ e, prefix: s.prefix, at: e.time ? Date.parse(e.time) : Number.NEGATIVE_INFINITY, si, i })));
  tagged.sort((x, y) => x.at - y.at || x.si - y.si || x.i - y.i);
  return tagged.map(({ e, prefix }) => `[${prefix}] ${keepStamps && e.time ? `${e.time} ` : ''}${e.text}`);
}

export function entryLines(entries: LogEntry[]): string[] {
  return entries.map((e) => (e.time ? `${e.time} ${e.text}` : e.text));
}

/** Keeps the newest lines within `cap` bytes. */
export function capNewest(text: string, cap: number): { text: string; capped: boolean } {
  if (Buffer.byteLength(text) <= cap) return { text, capped: false };
  const buf = Buffer.from(text);
  const cut = buf.subarray(buf.length - cap).toString('utf8');
  // A cut right after a newline starts on a whole line; otherwise drop the partial first line.
  const whole = buf[buf.length - cap - 1] === 0x0a;
  return { text: whole ? cut : cut.slice(cut.indexOf('\n') + 1), capped: true };
}

/** One log to read: a container of a pod, and how its lines are prefixed when several logs are merged. */
export interface LogSource {
  pod: string;
  container: string;
  prefix: string;
}

export interface SourceResult {
  source: LogSource;
  read?: LogRead;
  /** Why this log could not be read (e.g. no previous instance): the other logs are still shown. */
  error?: string;
}

/** Reads several logs, at most `concurrency` at a time; a log the apiserver refuses becomes an error line, not a failed call. */
export async function readSources(ctx: ToolContext, ns: string, sources: LogSource[], w: LogWindow, pattern: RegExp | undefined, opts: { readCap: number; concurrency: number; stamped: boolean }): Promise<SourceResult[]> {
  return mapLimit(sources, opts.concurrency, async (source) => {
    try {
      return { source, read: await readContainerLog(ctx, ns, source.pod, source.container, w, pattern, opts.readCap, opts.stamped) };
    } catch (err) {
      if (err instanceof KubeApiError && err.status !== 401 && sources.length > 1) return { source, error: err.toToolText().replace(/\s+/g, ' ') };
      throw err;
    }
  });
}

/** The text of read logs: one log as is, several merged by time with `[prefix]` on each line; notes first, newest lines kept within `cap`. */
export function renderLogs(results: SourceResult[], w: LogWindow, pattern: RegExp | undefined, cap: number, notes: string[], prefixed = results.length > 1): { text: string; shown: number } {
  const ok = results.filter((r): r is SourceResult & { read: LogRead } => Boolean(r.read));
  const lines = !prefixed ? entryLines(ok[0]?.read.entries ?? []) : mergeLogs(ok.map((r) => ({ prefix: r.source.prefix, entries: r.read.entries })), w.timestamps);
  const { text, capped } = capNewest(lines.join('\n'), cap);
  const each = results.length > 1 ? ' of each log' : '';
  const all = [
    ...notes,
    pattern && ok.length ? `/${pattern.source}/${pattern.flags} ${grepWindowText(ok.map((r) => r.read), w)}; showing the last ${w.tail}${each} at most` : '',
    ...results.filter((r) => r.error).map((r) => `[${r.source.prefix}] not read: ${r.error}`),
    capped ? `[log cut to the newest ${cap} bytes; narrow with grep, since or a smaller tail]` : '',
    ok.some((r) => r.read.truncated) ? '[a log read stopped at the read cap; its newest lines may be missing: narrow with since or sinceTime]' : '',
  ].filter(Boolean);
  return { text: (all.length ? `${all.map((l) => `# ${l}`).join('\n')}\n` : '') + (text || '(no log lines)'), shown: text ? text.split('\n').length : 0 };
}
