import { z } from 'zod';
import { resourcePath } from '../../k8s/discovery.js';
import { KubeApiError } from '../../k8s/errors.js';
import { renderColumnLines } from '../../output/format.js';
import { bytes, fmtCpu, fmtMem, millicores, pct } from '../../output/quantity.js';
import { clusterArg, labelSelectorArg, namespaceArg } from '../args.js';
import { listAll } from '../cluster/list-all.js';
import { defineTool, READ } from '../define.js';
import { listOutputSchema, PODS } from '../resources/common.js';
import { readMetrics, type PodSpecResources } from './metrics.js';

interface PodMetrics {
  items?: Array<{ metadata?: { name?: string; namespace?: string }; containers?: Array<{ name?: string; usage?: { cpu?: string; memory?: string } }> }>;
}

interface Usage {
  namespace: string;
  pod: string;
  container?: string;
  cpu: number;
  mem: number;
  cpuReq: number;
  cpuLim: number;
  memReq: number;
  memLim: number;
}

export const podsTop = defineTool({
  name: 'pods_top',
  title: 'Pods: Top',
  description:
    'CPU and memory use of pods (or of each container) from the metrics API, compared with their requests and limits: usage, % of request, % of limit; sorted by cpu or memory, highest first. Says so clearly when the cluster has no metrics API.',
  input: z.object({
    cluster: clusterArg,
    namespace: namespaceArg,
    labelSelector: labelSelectorArg,
    containers: z.boolean().default(false).describe('One row per container instead of per pod.'),
    sortBy: z.enum(['cpu', 'memory']).default('memory').describe('Sort by "cpu" or "memory" (default), highest first.'),
    limit: z.number().int().min(1).max(500).default(30).describe('Show the top N rows (default 30).'),
  }),
  output: listOutputSchema,
  annotations: READ,
  kinds: () => ['Pod'],
  async run(a, ctx) {
    const metricsPath = a.namespace ? `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(a.namespace)}/pods` : '/apis/metrics.k8s.io/v1beta1/pods';
    const metrics = await readMetrics<PodMetrics>(ctx, metricsPath, { labelSelector: a.labelSelector }, 'pods_top');
    // Requests and limits come from the pod specs; without read access to pods the comparison is left out.
    let specs = new Map<string, PodSpecResources>();
    let specNote = '';
    try {
      const pods = await listAll<PodSpecResources>(ctx.clients().rest, resourcePath(PODS, a.namespace), { cap: 5000, labelSelector: a.labelSelector, signal: ctx.signal });
      specs = new Map(pods.items.map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, p]));
    } catch (err) {
      if (!(err instanceof KubeApiError) || err.status === 401) throw err;
      specNote = ` (requests/limits not shown: ${err.reason} reading pods)`;
    }
    const rows: Usage[] = [];
    for (const m of metrics.items ?? []) {
      const ns = m.metadata?.namespace ?? '';
      const pod = m.metadata?.name ?? '';
      const spec = specs.get(`${ns}/${pod}`);
      const perContainer = (m.containers ?? []).map((c) => {
        const r = spec?.spec?.containers?.find((x) => x.name === c.name)?.resources;
        return {
          namespace: ns, pod, container: c.name ?? '',
          cpu: millicores(c.usage?.cpu), mem: bytes(c.usage?.memory),
          cpuReq: millicores(r?.requests?.cpu), cpuLim: millicores(r?.limits?.cpu), memReq: bytes(r?.requests?.memory), memLim: bytes(r?.limits?.memory),
        };
      });
      if (a.containers) rows.push(...perContainer);
      else {
        // A pod limit only means something when every container sets one.
        const all = (k: 'cpuLim' | 'memLim') => (perContainer.every((c) => c[k] > 0) ? perContainer.reduce((n, c) => n + c[k], 0) : 0);
        const sum = (k: 'cpu' | 'mem' | 'cpuReq' | 'memReq') => perContainer.reduce((n, c) => n + c[k], 0);
        rows.push({ namespace: ns, pod, cpu: sum('cpu'), mem: sum('mem'), cpuReq: sum('cpuReq'), cpuLim: all('cpuLim'), memReq: sum('memReq'), memLim: all('memLim') });
      }
    }
    rows.sort((x, y) => (a.sortBy === 'cpu' ? y.cpu - x.cpu : y.mem - x.mem));
    const shown = rows.slice(0, a.limit);
    const headers = [...(a.namespace ? [] : ['NAMESPACE']), 'POD', ...(a.containers ? ['CONTAINER'] : []), 'CPU', 'CPU/REQ', 'CPU/LIM', 'MEMORY', 'MEM/REQ', 'MEM/LIM'];
    const cells = shown.map((r) => [
      ...(a.namespace ? [] : [r.namespace]), r.pod, ...(a.containers ? [r.container ?? ''] : []),
      fmtCpu(r.cpu), pct(r.cpu, r.cpuReq), pct(r.cpu, r.cpuLim), fmtMem(r.mem), pct(r.mem, r.memReq), pct(r.mem, r.memLim),
    ]);
    const { columns, lines } = renderColumnLines(headers, cells);
    return {
      list: {
        header: (k, cut) => (shown.length ? `# top ${k}${cut ? ' (cut by the byte budget)' : ''} of ${rows.length} ${a.containers ? 'containers' : 'pods'} by ${a.sortBy}${specNote}; "-" = no request/limit set\n` : 'No pod metrics reported yet.'),
        ...(shown.length ? { columns } : {}),
        lines,
        rows: shown.map((r) => ({
          namespace: r.namespace, pod: r.pod, ...(a.containers ? { container: r.container ?? '' } : {}),
          cpu: fmtCpu(r.cpu), cpuOfRequest: pct(r.cpu, r.cpuReq), cpuOfLimit: pct(r.cpu, r.cpuLim), memory: fmtMem(r.mem), memoryOfRequest: pct(r.mem, r.memReq), memoryOfLimit: pct(r.mem, r.memLim),
        })),
        structured: { kind: 'PodMetrics' },
        noun: a.containers ? 'containers' : 'pods',
      },
    };
  },
});
