import { z } from 'zod';
import { resourcePath } from '../../k8s/discovery.js';
import { ToolRefusal } from '../../k8s/errors.js';
import { clusterArg, nameArg, namespaceArg } from '../args.js';
import { defineTool, READ } from '../define.js';
import { PODS } from '../resources/common.js';

/** Lines fetched from the end of the log when grepping, so matches older than `tail` lines are still found. */
const GREP_SCAN_LINES = 20_000;

export function parseDuration(s: string): number {
  const m = /^(\d+)(s|m|h|d)?$/.exec(s.trim());
  if (!m) throw new ToolRefusal(`since must look like 30s, 15m, 2h or 1d, not "${s}"`);
  const n = Number(m[1]);
  return n * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
}

/** Keeps lines matching a regex (server-side grep), then the last `tail` of them. */
export function grepLines(text: string, pattern: RegExp | undefined, tail: number): { lines: string[]; matched: number } {
  let lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (pattern) lines = lines.filter((l) => pattern.test(l));
  const matched = lines.length;
  return { lines: lines.slice(-tail), matched };
}

export const podsLog = defineTool({
  name: 'pods_log',
  title: 'Pods: Log',
  description:
    'Read a container log: last 200 lines by default. `grep` filters lines server-side with a regular expression (e.g. "error|timeout") before the tail is applied, so you get only what matters.',
  input: z.object({
    cluster: clusterArg,
    name: nameArg,
    namespace: namespaceArg,
    container: z.string().optional().describe('Container name; required when the pod has several containers.'),
    tail: z.number().int().min(1).max(10_000).default(200).describe('Return at most this many (matching) lines from the end. Default 200.'),
    since: z.string().optional().describe('Only lines newer than this duration, e.g. "10m", "2h".'),
    previous: z.boolean().default(false).describe("The previous (crashed) container instance's log."),
    grep: z.string().optional().describe('Regular expression; only matching lines are returned.'),
    ignoreCase: z.boolean().default(false).describe('Make grep case-insensitive.'),
    timestamps: z.boolean().default(false).describe('Prefix each line with its RFC 3339 timestamp.'),
    maxBytes: z.number().int().min(1024).max(4 * 1024 * 1024).optional().describe("Cap on the log bytes read (default: the worker's byte budget)."),
  }),
  annotations: READ,
  kinds: () => ['Pod'],
  async run(a, ctx) {
    let pattern: RegExp | undefined;
    if (a.grep) {
      try {
        pattern = new RegExp(a.grep, a.ignoreCase ? 'i' : '');
      } catch (err) {
        throw new ToolRefusal(`grep is not a valid regular expression: ${(err as Error).message}`);
      }
    }
    const cap = a.maxBytes ?? ctx.config.byteBudget;
    const res = await ctx.clients().rest.request('GET', resourcePath(PODS, a.namespace ?? 'default', a.name, 'log'), {
      query: {
        container: a.container,
        tailLines: pattern ? Math.max(GREP_SCAN_LINES, a.tail) : a.tail,
        sinceSeconds: a.since ? parseDuration(a.since) : undefined,
        previous: a.previous || undefined,
        timestamps: a.timestamps || undefined,
      },
      accept: '*/*',
      maxBytes: 32 * 1024 * 1024,
      signal: ctx.signal,
    });
    const { lines, matched } = grepLines(res.text, pattern, a.tail);
    let text = lines.join('\n');
    let capped = false;
    if (Buffer.byteLength(text) > cap) {
      // Keep the newest lines within the cap.
      const buf = Buffer.from(text);
      text = buf.subarray(buf.length - cap).toString('utf8');
      text = text.slice(text.indexOf('\n') + 1);
      capped = true;
    }
    const notes = [
      pattern ? `${matched} line(s) matched /${a.grep}/${a.ignoreCase ? 'i' : ''}; showing the last ${lines.length}` : '',
      capped ? `[log cut to the newest ${cap} bytes; narrow with grep, since or a smaller tail]` : '',
      res.truncated ? '[log read stopped at the read cap]' : '',
    ].filter(Boolean);
    return {
      text: (notes.length ? `# ${notes.join('; ')}\n` : '') + (text || '(no log lines)'),
      truncationHint: 'Use grep, since or a smaller tail to narrow the log.',
    };
  },
});
