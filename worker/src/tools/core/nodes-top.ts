import { z } from 'zod';
import { KubeApiError } from '../../k8s/errors.js';
import { renderColumnLines } from '../../output/format.js';
import { bytes, fmtCpu, fmtMem, millicores, pct } from '../../output/quantity.js';
import { clusterArg, labelSelectorArg } from '../args.js';
import { listAll } from '../cluster/list-all.js';
import { defineTool, READ } from '../define.js';
import { listOutputSchema } from '../resources/common.js';
import { readMetrics, type PodSpecResources } from './metrics.js';

interface NodeMetrics {
  items?: Array<{ metadata?: { name?: string }; usage?: { cpu?: string; memory?: string } }>;
}
interface Node {
  metadata?: { name?: string };
  status?: { allocatable?: Record<string, string> };
}

export const nodesTop = defineTool({
  name: 'nodes_top',
  title: 'Nodes: Top',
  description:
    'CPU and memory use per node from the metrics API (metrics-server) in m and Mi, with % of allocatable, and what the pods on it request vs allocatable. Says so clearly when the cluster has no metrics API.',
  input: z.object({ cluster: clusterArg, labelSelector: labelSelectorArg }),
  output: listOutputSchema,
  annotations: READ,
  kinds: () => ['Node'],
  async run(a, ctx) {
    const metrics = await readMetrics<NodeMetrics>(ctx, '/apis/metrics.k8s.io/v1beta1/nodes', { labelSelector: a.labelSelector }, 'nodes_top');
    const rest = ctx.clients().rest;
    const nodes = await listAll<Node>(rest, '/api/v1/nodes', { cap: 10_000, labelSelector: a.labelSelector, signal: ctx.signal });
    const alloc = new Map(nodes.items.map((n) => [n.metadata?.name ?? '', n.status?.allocatable ?? {}]));
    const requested = new Map<string, { cpu: number; mem: number }>();
    let note = '';
    try {
      const pods = await listAll<PodSpecResources>(rest, '/api/v1/pods', { cap: 50_000, fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed', signal: ctx.signal });
      for (const p of pods.items) {
        const node = p.spec?.nodeName;
        if (!node) continue;
        const r = requested.get(node) ?? { cpu: 0, mem: 0 };
        for (const c of p.spec?.containers ?? []) {
          r.cpu += millicores(c.resources?.requests?.cpu);
          r.mem += bytes(c.resources?.requests?.memory);
        }
        requested.set(node, r);
      }
    } catch (err) {
      if (!(err instanceof KubeApiError) || err.status === 401) throw err;
      note = ` (requested not shown: ${err.reason} listing pods in all namespaces)`;
    }
    const rows = (metrics.items ?? []).map((m) => {
      const name = m.metadata?.name ?? '';
      const al = alloc.get(name) ?? {};
      const cpuAl = millicores(al.cpu);
      const memAl = bytes(al.memory);
      const cpu = millicores(m.usage?.cpu);
      const mem = bytes(m.usage?.memory);
      const req = requested.get(name);
      return {
        name,
        cells: [name, fmtCpu(cpu), pct(cpu, cpuAl), fmtMem(mem), pct(mem, memAl), req ? `${fmtCpu(req.cpu)} (${pct(req.cpu, cpuAl)})` : '-', req ? `${fmtMem(req.mem)} (${pct(req.mem, memAl)})` : '-', `${fmtCpu(cpuAl)}/${fmtMem(memAl)}`],
      };
    });
    const headers = ['NAME', 'CPU', 'CPU%', 'MEMORY', 'MEMORY%', 'CPU REQUESTED', 'MEMORY REQUESTED', 'ALLOCATABLE'];
    const { columns, lines } = renderColumnLines(headers, rows.map((r) => r.cells));
    return {
      list: {
        header: (k, cut) => (rows.length ? `# ${k}${cut ? ' (cut by the byte budget)' : ''} of ${rows.length} nodes; % of allocatable${note}\n` : 'No node metrics reported yet.'),
        ...(rows.length ? { columns } : {}),
        lines,
        rows: rows.map((r) => Object.fromEntries(['name', 'cpu', 'cpuPercent', 'memory', 'memoryPercent', 'cpuRequested', 'memoryRequested', 'allocatable'].map((k, i) => [k, r.cells[i]!]))),
        structured: { kind: 'NodeMetrics' },
        noun: 'nodes',
      },
    };
  },
});
