import { z } from 'zod';
import { KubeApiError, ToolRefusal } from '../../k8s/errors.js';
import { renderColumns } from '../../output/format.js';
import { clusterArg, labelSelectorArg } from '../args.js';
import { defineTool, READ } from '../define.js';

interface NodeMetrics {
  items?: Array<{ metadata?: { name?: string }; usage?: { cpu?: string; memory?: string } }>;
}

export const nodesTop = defineTool({
  name: 'nodes_top',
  title: 'Nodes: Top',
  description: 'CPU and memory use per node from the metrics API (metrics-server). Says so clearly when the cluster has no metrics API.',
  input: z.object({ cluster: clusterArg, labelSelector: labelSelectorArg }),
  annotations: READ,
  kinds: () => ['Node'],
  async run(a, ctx) {
    let metrics: NodeMetrics;
    try {
      metrics = await ctx.clients().rest.get<NodeMetrics>('/apis/metrics.k8s.io/v1beta1/nodes', {
        query: { labelSelector: a.labelSelector },
        signal: ctx.signal,
      });
    } catch (err) {
      if (err instanceof KubeApiError && (err.status === 404 || err.status === 503)) {
        throw new ToolRefusal(
          `cluster ${ctx.cluster.name} has no metrics API (metrics.k8s.io is not served; install metrics-server to use nodes_top)`,
        );
      }
      throw err;
    }
    const rows = (metrics.items ?? []).map((m) => [m.metadata?.name ?? '', m.usage?.cpu ?? '', m.usage?.memory ?? '']);
    return { text: rows.length ? renderColumns(['NAME', 'CPU', 'MEMORY'], rows) : 'No node metrics reported yet.' };
  },
});
