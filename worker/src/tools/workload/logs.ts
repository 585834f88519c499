import { z } from 'zod';
import { resourcePath } from '../../k8s/discovery.js';
import { ToolRefusal } from '../../k8s/errors.js';
import { clusterArg, namespaceArg } from '../args.js';
import { listAll } from '../cluster/list-all.js';
import { podHealth, type PodLike } from '../cluster/pod-health.js';
import { defineTool, READ } from '../define.js';
import { allContainerNames, defaultContainer, DEFAULT_CONTAINER_ANNOTATION, type PodContainers } from '../pods/containers.js';
import { assertOneSince, grepPattern, logWindowArgs, readSources, renderLogs, type LogSource } from '../pods/log-read.js';
import { PODS } from '../resources/common.js';
import { WORKLOAD_KINDS } from './kinds.js';
import { selectorString, type LabelSelector } from './selector.js';

/** Pods listed to choose from; logs read at once; bytes read per log before grep and tail. */
const POD_LIST_CAP = 1_000;
const CONCURRENCY = 4;
const READ_CAP = 8 * 1024 * 1024;
const KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet'] as const;

type Pod = PodLike & PodContainers & { metadata?: { name?: string; creationTimestamp?: string } };

/** Least healthy first (the logs an SRE wants), then most restarts, then newest. */
export function podReadOrder(pods: Pod[], now = Date.now()): Pod[] {
  return pods
    .map((p) => ({ p, h: podHealth(p, now) }))
    .sort((x, y) => y.h.severity - x.h.severity || y.h.restarts - x.h.restarts || (y.p.metadata?.creationTimestamp ?? '').localeCompare(x.p.metadata?.creationTimestamp ?? '') || x.h.name.localeCompare(y.h.name))
    .map((x) => x.p);
}

export const workloadLogs = defineTool({
  name: 'workload_logs',
  title: 'Workload: Logs',
  description:
    `Logs of many pods in one call, like kubectl logs deploy/web or -l app=web: the pods of a Deployment, StatefulSet, DaemonSet, Job or ReplicaSet (kind + name), or of a label selector, merged by time with [pod/container] on every line. Reads up to maxPods pods (least healthy first) and says how many of how many matched. Per pod it reads the named container, or all containers (allContainers, init too), or the default one (the ${DEFAULT_CONTAINER_ANNOTATION} annotation, else the first). grep filters server-side and states how many lines it searched. For one pod, pods_log.`,
  input: z.object({
    cluster: clusterArg,
    namespace: namespaceArg,
    kind: z.enum(KINDS).default('Deployment').describe('Kind of the workload named by name (default Deployment).'),
    name: z.string().min(1).optional().describe('Workload name; its pods are those its selector matches. Give name or labelSelector.'),
    labelSelector: z.string().min(1).optional().describe('Read the pods this label selector matches instead, e.g. "app=web,tier!=cache".'),
    container: z.string().optional().describe('Read this container in each pod (pods without it are listed as skipped).'),
    allContainers: z.boolean().default(false).describe('Read every container of each pod, init containers included.'),
    tail: z.number().int().min(1).max(2_000).default(50).describe('At most this many (matching) lines from the end of each log. Default 50.'),
    ...logWindowArgs,
    maxPods: z.number().int().min(1).max(50).default(10).describe('Read at most this many pods (default 10, max 50), least healthy first.'),
    maxBytes: z.number().int().min(1024).max(4 * 1024 * 1024).optional().describe("Cap on the log bytes returned (default: the worker's byte budget); the newest lines are kept."),
  }),
  output: z.object({
    selector: z.string(),
    podsMatched: z.number().int().describe('Pods the selector matched (up to 1,000 listed).'),
    podsRead: z.number().int(),
    logs: z.array(z.object({ pod: z.string(), container: z.string(), lines: z.number().int().describe('Lines kept from this log after grep and tail (the byte cap may still cut the oldest).'), matched: z.number().int().optional(), searched: z.number().int().optional(), error: z.string().optional() })),
  }),
  annotations: READ,
  kinds: (a) => ['Pod', ...(a.name ? [a.kind] : [])],
  async run(a, ctx) {
    assertOneSince(a);
    const pattern = grepPattern(a);
    if (Boolean(a.name) === Boolean(a.labelSelector)) throw new ToolRefusal(a.name ? 'name and labelSelector: give one of them, not both' : 'name: required (with kind) unless labelSelector is given; give one of them');
    if (a.container && a.allContainers) throw new ToolRefusal('container and allContainers: give one of them, not both');
    const ns = a.namespace ?? 'default';
    const rest = ctx.clients().rest;
    let selector = a.labelSelector ?? '';
    let what = `pods matching ${selector}`;
    if (a.name) {
      const obj = await rest.get<{ spec?: { selector?: LabelSelector } }>(resourcePath(WORKLOAD_KINDS[a.kind], ns, a.name), { signal: ctx.signal });
      selector = selectorString(obj.spec?.selector);
      // An empty selector would match every pod in the namespace: never what "the pods of X" means.
      if (!selector) throw new ToolRefusal(`${a.kind.toLowerCase()} ${ns}/${a.name} has no pod selector; give labelSelector instead`);
      what = `pods of ${a.kind.toLowerCase()} ${a.name} (${selector})`;
    }
    const listed = await listAll<Pod>(rest, resourcePath(PODS, ns), { cap: POD_LIST_CAP, labelSelector: selector, signal: ctx.signal });
    const matched = listed.items.length;
    const matchedText = `${matched}${listed.complete ? '' : '+'}`;
    if (!matched) return { text: `No ${what} in namespace ${ns}.`, structured: { selector, podsMatched: 0, podsRead: 0, logs: [] } };
    const pods = podReadOrder(listed.items).slice(0, a.maxPods);

    const sources: LogSource[] = [];
    const skipped: string[] = [];
    for (const p of pods) {
      const pod = p.metadata?.name ?? '';
      const names = a.container ? [a.container] : a.allContainers ? allContainerNames(p) : [defaultContainer(p).name];
      for (const c of names) {
        if (a.container && !allContainerNames(p).includes(c)) skipped.push(pod);
        else sources.push({ pod, container: c, prefix: `${pod}/${c}` });
      }
    }
    const results = await readSources(ctx, ns, sources, a, pattern, { readCap: READ_CAP, concurrency: CONCURRENCY, stamped: true });
    const rest_ = matched - pods.length;
    const notes = [
      `${pods.length} of ${matchedText} ${what} read${rest_ > 0 ? ` (least healthy first; raise maxPods, max 50, or narrow the selector for the other ${rest_}${listed.complete ? '' : '+'})` : ''}; ${sources.length} log${sources.length === 1 ? '' : 's'}, last ${a.tail} lines of each${pattern ? ' that match' : ''}`,
      ...(skipped.length ? [`no container ${a.container} in: ${skipped.join(', ')}`] : []),
    ];
    const { text } = renderLogs(results, a, pattern, a.maxBytes ?? ctx.config.byteBudget, notes, true);
    const logs = results.map((r) => ({
      pod: r.source.pod,
      container: r.source.container,
      lines: r.read?.entries.length ?? 0,
      ...(pattern && r.read ? { matched: r.read.matched, searched: r.read.scanned } : {}),
      ...(r.error ? { error: r.error } : {}),
    }));
    return { text, structured: { selector, podsMatched: matched, podsRead: pods.length, logs }, truncationHint: 'Use grep, since, a smaller tail or fewer pods (maxPods) to narrow the logs.' };
  },
});
