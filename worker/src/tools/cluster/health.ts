import { z } from 'zod';
import { KubeApiError } from '../../k8s/errors.js';
import { age, renderColumns } from '../../output/format.js';
import { clusterArg } from '../args.js';
import { defineTool, READ, type ToolContext } from '../define.js';
import { eventRows } from '../resources/describe.js';

interface Node {
  metadata?: { name?: string };
  status?: { conditions?: Array<{ type?: string; status?: string; reason?: string }> };
}
interface Pod {
  metadata?: { name?: string; namespace?: string; creationTimestamp?: string };
  status?: { phase?: string; reason?: string };
}

async function section<T>(fn: () => Promise<T>): Promise<T | string> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof KubeApiError && err.status !== 401) return `not available: ${err.toToolText()}`;
    throw err;
  }
}

export const clusterHealth = defineTool({
  name: 'cluster_health',
  title: 'Cluster: Health',
  description: 'A quick health report: apiserver readiness, nodes not Ready, pods not Running/Succeeded, and recent Warning events. Sections you may not read say so.',
  input: z.object({ cluster: clusterArg }),
  output: z.object({
    apiserverReady: z.boolean(),
    nodes: z.number().int().optional(),
    nodesNotReady: z.number().int().optional(),
    podsNotRunning: z.number().int().optional(),
    warnings: z.number().int().optional(),
  }),
  annotations: READ,
  async run(_a, ctx: ToolContext) {
    const rest = ctx.clients().rest;
    const ready = await rest.raw('GET', '/readyz', { accept: 'text/plain', signal: ctx.signal });
    const out: string[] = [`apiserver: ${ready.status === 200 ? 'ready' : `NOT ready (HTTP ${ready.status})`}`];
    const structured: Record<string, unknown> = { apiserverReady: ready.status === 200 };

    const nodes = await section(() => rest.get<{ items?: Node[] }>('/api/v1/nodes', { query: { limit: 500 }, signal: ctx.signal }));
    if (typeof nodes === 'string') out.push(`nodes: ${nodes}`);
    else {
      const items = nodes.items ?? [];
      const notReady = items.filter((n) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True');
      structured.nodes = items.length;
      structured.nodesNotReady = notReady.length;
      out.push(`nodes: ${items.length - notReady.length}/${items.length} Ready${notReady.length ? `; not ready: ${notReady.map((n) => n.metadata?.name).join(', ')}` : ''}`);
    }

    const pods = await section(() =>
      rest.get<{ items?: Pod[] }>('/api/v1/pods', {
        query: { fieldSelector: 'status.phase!=Running,status.phase!=Succeeded', limit: 50 },
        signal: ctx.signal,
      }),
    );
    if (typeof pods === 'string') out.push(`pods not running: ${pods}`);
    else {
      const items = pods.items ?? [];
      structured.podsNotRunning = items.length;
      out.push(
        items.length
          ? `pods not running (${items.length}${items.length === 50 ? '+' : ''}):\n${renderColumns(
              ['NAMESPACE', 'NAME', 'PHASE', 'AGE'],
              items.map((p) => [p.metadata?.namespace ?? '', p.metadata?.name ?? '', p.status?.reason ?? p.status?.phase ?? '', age(p.metadata?.creationTimestamp)]),
            )}`
          : 'pods not running: none',
      );
    }

    const warnings = await section(() => rest.get<{ items?: Parameters<typeof eventRows>[0] }>('/api/v1/events', { query: { fieldSelector: 'type=Warning', limit: 200 }, signal: ctx.signal }));
    if (typeof warnings === 'string') out.push(`warning events: ${warnings}`);
    else {
      const rows = eventRows(warnings.items ?? []).slice(-20);
      structured.warnings = (warnings.items ?? []).length;
      out.push(rows.length ? `recent warning events:\n${renderColumns(['TYPE', 'REASON', 'AGE', 'FROM', 'MESSAGE'], rows)}` : 'recent warning events: none');
    }
    return { text: out.join('\n'), structured };
  },
});
