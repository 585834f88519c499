import { z } from 'zod';
import { KubeApiError, ToolRefusal } from '../../k8s/errors.js';
import { clusterArg } from '../args.js';
import { defineTool, READ } from '../define.js';
import { grepLines, parseDuration } from '../pods/log-read.js';

/** Lines asked of the kubelet when grepping, so matches older than `tail` lines are still found. */
const GREP_SCAN_LINES = 20_000;
/** What is read from the apiserver at most; the answer shown is then cut to maxBytes (newest lines kept). */
const READ_CAP = 32 * 1024 * 1024;
/** Proxy answers that mean the kubelet behind the node is not there or does not serve logs. */
const KUBELET_UNREACHABLE = new Set([404, 500, 502, 503, 504]);
/** The apiserver's own refusal to proxy to a loopback or link-local node address (what kwok nodes report). */
const PROXY_REFUSED = /^address not allowed$/;

const SERVICE = /^[A-Za-z0-9@._:-]{1,256}$/;
const FILE = /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9._/-]{1,512}$/;

/** Why the kubelet did not answer, in words the caller can act on (never "internal error"). */
export function kubeletUnreachable(node: string, err: KubeApiError): ToolRefusal {
  return new ToolRefusal(
    `node ${node}'s kubelet did not serve logs (apiserver node proxy answered ${err.status} ${err.reason}: ${err.message.slice(0, 300)}). ` +
      (PROXY_REFUSED.test(err.message) ? "The apiserver will not proxy to the node's address (loopback or link-local), which virtual nodes report. " : '') +
      'The kubelet is not reachable from the apiserver, or it does not serve log queries: query= needs the NodeLogQuery feature gate and kubelet settings enableSystemLogHandler and enableSystemLogQuery. ' +
      'Virtual nodes (kwok, virtual-kubelet) have no kubelet logs. Check the node with resources_describe kind=Node name=' + node + ', or read a pod\'s log with pods_log.',
  );
}

/** A kubelet without NodeLogQuery ignores query= and serves its /var/log directory listing (HTML) instead. */
function directoryListing(text: string): string[] | undefined {
  if (!/^\s*<pre>/i.test(text)) return undefined;
  return [...text.matchAll(/<a href="([^"]+)">/g)].map((m) => decodeURIComponent(m[1]!)).slice(0, 50);
}

export const nodesLog = defineTool({
  name: 'nodes_log',
  title: 'Nodes: Log',
  description:
    "Read a node's system logs through the apiserver's node proxy (like `kubectl get --raw /api/v1/nodes/<node>/proxy/logs/?query=kubelet`): a service's journal via query (e.g. \"kubelet\", \"containerd\"; needs the kubelet's NodeLogQuery feature), or a file under /var/log via path. Last 200 lines by default; `grep` filters lines with a regular expression before the tail is applied; output is capped. Needs get on nodes/proxy.",
  input: z
    .object({
      cluster: clusterArg,
      name: z.string().min(1).describe('Node name (nodes_list shows them).'),
      query: z.string().regex(SERVICE, 'a service name like "kubelet" or "containerd.service"').optional().describe('Service whose journal to read, e.g. "kubelet". Default "kubelet" when path is not given.'),
      path: z.string().regex(FILE, 'a relative file path under /var/log without "..", e.g. "kubelet.log"').optional().describe('Instead of query: a file under /var/log, e.g. "kubelet.log" or "pods/…". The kubelet serves the file from its start, so a large file is cut at the read cap.'),
      tail: z.number().int().min(1).max(10_000).default(200).describe('Return at most this many (matching) lines from the end. Default 200.'),
      since: z.string().optional().describe('Only lines newer than this duration, e.g. "10m", "2h" (query only).'),
      grep: z.string().optional().describe('Regular expression; only matching lines are returned.'),
      ignoreCase: z.boolean().default(false).describe('Make grep case-insensitive.'),
      maxBytes: z.number().int().min(1024).max(4 * 1024 * 1024).optional().describe("Cap on the log bytes returned (default: the worker's byte budget); the newest lines are kept."),
    })
    .refine((a) => !(a.query && a.path), { message: 'give query or path, not both', path: ['path'] })
    .refine((a) => !(a.path && a.since), { message: 'since works with query only (the kubelet filters journal entries by time, not files)', path: ['since'] }),
  output: z.object({
    node: z.string(),
    source: z.string().describe('The service (query) or /var/log file read.'),
    lines: z.number().int().describe('Lines returned.'),
    matched: z.number().int().optional().describe('Lines that matched grep in the lines scanned.'),
    scanned: z.number().int().describe('Lines read from the kubelet (the grep window).'),
    capped: z.boolean().describe('The output was cut to maxBytes (newest lines kept).'),
    readCapHit: z.boolean().describe('The kubelet sent more than the read cap; the rest was not read.'),
  }),
  annotations: READ,
  kinds: () => ['Node'],
  async run(a, ctx) {
    let pattern: RegExp | undefined;
    if (a.grep) {
      try {
        pattern = new RegExp(a.grep, a.ignoreCase ? 'i' : '');
      } catch (err) {
        throw new ToolRefusal(`grep is not a valid regular expression: ${(err as Error).message}`);
      }
    }
    const service = a.path ? undefined : (a.query ?? 'kubelet');
    const file = a.path ?? '';
    const source = service ? `service ${service}` : `/var/log/${file}`;
    const path = `/api/v1/nodes/${encodeURIComponent(a.name)}/proxy/logs/${file.split('/').map(encodeURIComponent).join('/')}`;
    const tailLines = pattern ? Math.max(GREP_SCAN_LINES, a.tail) : a.tail;
    let res;
    try {
      res = await ctx.clients().rest.request('GET', path, {
        query: service ? { query: service, tailLines, sinceTime: a.since ? new Date(Date.now() - parseDuration(a.since) * 1000).toISOString() : undefined } : {},
        accept: '*/*',
        maxBytes: READ_CAP,
        signal: ctx.signal,
      });
    } catch (err) {
      // "nodes "x" not found" is the apiserver's own 404, told here: the generic next step would send a node to a namespace.
      if (err instanceof KubeApiError && /^nodes "[^"]*" not found$/.test(err.message)) {
        throw new KubeApiError(err.cluster, err.status, err.reason, `${err.message}: cluster ${ctx.cluster.name} has no node named ${a.name} (nodes are not namespaced); nodes_list shows the nodes it has`);
      }
      if (err instanceof KubeApiError && (KUBELET_UNREACHABLE.has(err.status) || PROXY_REFUSED.test(err.message))) throw kubeletUnreachable(a.name, err);
      throw err;
    }
    const listing = directoryListing(res.text);
    if (listing) {
      throw new ToolRefusal(
        `node ${a.name}'s kubelet answered with its /var/log directory listing instead of ${source}: ${service ? 'it does not serve log queries (NodeLogQuery feature gate, enableSystemLogQuery), so ' : ''}read a file with path=<file>. Files there: ${listing.join(', ') || '(none)'}`,
      );
    }
    const { lines, matched, scanned } = grepLines(res.text, pattern, a.tail);
    const cap = a.maxBytes ?? ctx.config.byteBudget;
    let text = lines.join('\n');
    let capped = false;
    if (Buffer.byteLength(text) > cap) {
      const buf = Buffer.from(text);
      text = buf.subarray(buf.length - cap).toString('utf8');
      text = text.slice(text.indexOf('\n') + 1);
      capped = true;
    }
    const notes = [
      pattern ? `matched ${matched} of the last ${scanned} lines read for /${a.grep}/${a.ignoreCase ? 'i' : ''}; showing the last ${lines.length}` : '',
      capped ? `[log cut to the newest ${cap} bytes; narrow with grep, since or a smaller tail]` : '',
      res.truncated ? `[read stopped at the ${READ_CAP}-byte read cap${service ? '' : ': this is the start of the file'}]` : '',
    ].filter(Boolean);
    return {
      text: `# ${source} on node ${a.name}${notes.length ? `; ${notes.join('; ')}` : ''}\n` + (text || '(no log lines)'),
      structured: { node: a.name, source, lines: lines.length, ...(pattern ? { matched } : {}), scanned, capped, readCapHit: res.truncated },
      truncationHint: 'Use grep, since or a smaller tail to narrow the log.',
    };
  },
});
