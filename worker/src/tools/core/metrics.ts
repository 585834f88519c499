import { KubeApiError, ToolRefusal } from '../../k8s/errors.js';
import type { ToolContext } from '../define.js';

/** Reads the metrics API, turning "not served" into a clear refusal. */
export async function readMetrics<T>(ctx: ToolContext, path: string, query: Record<string, string | undefined>, tool: string): Promise<T> {
  try {
    return await ctx.clients().rest.get<T>(path, { query, signal: ctx.signal });
  } catch (err) {
    if (err instanceof KubeApiError && (err.status === 404 || err.status === 503)) {
      throw new ToolRefusal(`cluster ${ctx.cluster.name} has no metrics API (metrics.k8s.io is not served; install metrics-server to use ${tool})`);
    }
    throw err;
  }
}

export interface PodSpecResources {
  metadata?: { name?: string; namespace?: string };
  spec?: { nodeName?: string; containers?: Array<{ name?: string; resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }> };
  status?: { phase?: string };
}
