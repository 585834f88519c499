import { z } from 'zod';
import { resourcePath } from '../../k8s/discovery.js';
import { ToolRefusal } from '../../k8s/errors.js';
import { clusterArg, nameArg, namespaceArg } from '../args.js';
import { defineTool, READ } from '../define.js';
import { PODS } from '../resources/common.js';
import { allContainerNames, defaultContainer, DEFAULT_CONTAINER_ANNOTATION, type PodContainers } from './containers.js';
import { assertOneSince, grepPattern, logWindowArgs, readSources, renderLogs } from './log-read.js';

/** How much of one log is read before grep and tail (the apiserver streams it; the rest is dropped). */
const READ_CAP = 32 * 1024 * 1024;

export const podsLog = defineTool({
  name: 'pods_log',
  title: 'Pods: Log',
  description:
    `Read one pod's log: last 200 lines by default. Without container it reads the container the pod's ${DEFAULT_CONTAINER_ANNOTATION} annotation names, else the first; allContainers reads every container, init containers too, merged by time with [container] on each line. \`grep\` filters lines server-side with a regular expression (e.g. "error|timeout") before the tail is applied, and says how many lines it searched. For the pods of a Deployment, StatefulSet, DaemonSet, Job or label selector, use workload_logs.`,
  input: z.object({
    cluster: clusterArg,
    name: nameArg,
    namespace: namespaceArg,
    container: z.string().optional().describe(`Container name. Omit for the pod's default container (its ${DEFAULT_CONTAINER_ANNOTATION} annotation, else the first).`),
    allContainers: z.boolean().default(false).describe('Read every container of the pod, init containers included, each line prefixed with [container]. Not with container.'),
    tail: z.number().int().min(1).max(10_000).default(200).describe('Return at most this many (matching) lines from the end of each log. Default 200.'),
    ...logWindowArgs,
    maxBytes: z.number().int().min(1024).max(4 * 1024 * 1024).optional().describe("Cap on the log bytes returned (default: the worker's byte budget); the newest lines are kept."),
  }),
  annotations: READ,
  kinds: () => ['Pod'],
  async run(a, ctx) {
    assertOneSince(a);
    const pattern = grepPattern(a);
    if (a.container && a.allContainers) throw new ToolRefusal('container and allContainers: give one of them, not both');
    const ns = a.namespace ?? 'default';
    const notes: string[] = [];
    let names: string[];
    if (a.container) names = [a.container];
    else {
      const pod = await ctx.clients().rest.get<PodContainers>(resourcePath(PODS, ns, a.name), { signal: ctx.signal });
      if (a.allContainers) names = allContainerNames(pod);
      else {
        const chosen = defaultContainer(pod);
        names = [chosen.name];
        if (chosen.note) notes.push(chosen.note);
      }
    }
    const sources = names.map((c) => ({ pod: a.name, container: c, prefix: c }));
    const results = await readSources(ctx, ns, sources, a, pattern, { readCap: READ_CAP, concurrency: 4, stamped: a.timestamps || sources.length > 1 });
    return {
      text: renderLogs(results, a, pattern, a.maxBytes ?? ctx.config.byteBudget, notes).text,
      truncationHint: 'Use grep, since or a smaller tail to narrow the log.',
    };
  },
});
