import { z } from 'zod';
import { apiVersionOf, resourcePath, type ApiResource } from '../../k8s/discovery.js';
import { ToolRefusal } from '../../k8s/errors.js';
import { slimObject, TABLE_ACCEPT, toYaml, type KubeTable, type OutputFormat } from '../../output/format.js';
import type { Row } from '../../output/page.js';
import type { ToolContext, ToolOutput } from '../define.js';
import { assertKindAllowed } from '../policy.js';
import { assertViewFitsFormat, includeObjectFor, viewTable, type ListView } from './list-view.js';

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; [k: string]: unknown };
  [k: string]: unknown;
};

interface KubeList {
  items?: KubeObject[];
  metadata?: { continue?: string; remainingItemCount?: number };
}

/** One row per item: the columns the text shows, as strings. */
export const rowSchema = z.record(z.string(), z.string());

/** How to rerun a page the byte budget cut, so no item is skipped. */
export const cutSchema = z
  .object({ shown: z.number().int(), of: z.number().int(), rerun: z.object({ limit: z.number().int(), continue: z.string().optional() }) })
  .describe('Present when the byte budget cut the page between items: rerun with these arguments to page without skipping any.');

/** structuredContent of every list tool: the page's rows and how to get the next one. */
export const listOutputSchema = z.object({
  kind: z.string(),
  count: z.number().int().describe('Rows in this result.'),
  rows: z.array(rowSchema).describe('One row per item: the summary columns (keys like name, ready, status), or namespace and name for YAML formats.'),
  continue: z.string().optional().describe('Pass as `continue` to get the next page.'),
  remainingItemCount: z.number().int().optional(),
  cut: cutSchema.optional(),
});

/** Resolves a kind through discovery and applies the cluster's kind allow/deny lists to what it resolved to. */
export async function resolveResource(ctx: ToolContext, kind: string, apiVersion?: string): Promise<ApiResource> {
  const r = await ctx.discovery.resolve(ctx.clients().rest, kind, apiVersion);
  assertKindAllowed([r.kind], [r.resource, r.singular, ...r.shortNames], ctx.policy, ctx.cluster.name);
  return r;
}

export function builtin(group: string, version: string, resource: string, kind: string, namespaced: boolean): ApiResource {
  return { group, version, resource, kind, singular: kind.toLowerCase(), namespaced, verbs: [], shortNames: [], subresources: [], preferred: true };
}

export const PODS = builtin('', 'v1', 'pods', 'Pod', true);
export const NODES = builtin('', 'v1', 'nodes', 'Node', false);
export const NAMESPACES = builtin('', 'v1', 'namespaces', 'Namespace', false);
export const EVENTS = builtin('', 'v1', 'events', 'Event', true);
export const SECRETS = builtin('', 'v1', 'secrets', 'Secret', true);

export interface ListOptions extends ListView {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit: number;
  continue?: string;
  format: OutputFormat;
}

/** One page of any list: apiserver-rendered columns for `summary`, slimmed YAML for `normal`, everything for `full`. */
export async function listResource(ctx: ToolContext, r: ApiResource, o: ListOptions): Promise<ToolOutput> {
  if (!r.namespaced && o.namespace) throw new ToolRefusal(`${r.resource} are cluster-scoped; omit namespace`);
  assertViewFitsFormat(o, o.format);
  const rest = ctx.clients().rest;
  const path = resourcePath(r, o.namespace);
  const query = { labelSelector: o.labelSelector, fieldSelector: o.fieldSelector, limit: o.limit, continue: o.continue };
  const scope = r.namespaced ? (o.namespace ? ` in namespace ${o.namespace}` : ' in all namespaces') : '';
  if (o.format === 'summary') {
    const allNamespaces = r.namespaced && !o.namespace;
    const table = await rest.get<KubeTable>(path, {
      query: { ...query, includeObject: includeObjectFor(o, allNamespaces) },
      accept: TABLE_ACCEPT,
      signal: ctx.signal,
    });
    if (!Array.isArray(table.rows)) throw new ToolRefusal(`the apiserver did not return a table for ${r.resource}`);
    return page(r, table.metadata, scope, o, viewTable(table, { ...o, namespaceColumn: allNamespaces, typeMeta: { apiVersion: apiVersionOf(r), kind: r.kind } }));
  }
  const list = await rest.get<KubeList>(path, { query, signal: ctx.signal });
  // Items carry their kind so Secret masking recognises them; render drops it again after masking.
  const items = (list.items ?? []).map((i) => {
    const item = slimObject({ apiVersion: apiVersionOf(r), kind: r.kind, ...i }, o.format);
    if (o.format === 'normal' && item.metadata) {
      // Stated once in the header instead of once per item.
      if (o.namespace) delete item.metadata.namespace;
      delete item.metadata.uid;
    }
    return item;
  });
  const rows = (list.items ?? []).map((i) => ({ ...(i.metadata?.namespace ? { namespace: i.metadata.namespace } : {}), name: i.metadata?.name ?? '' }));
  return { ...page(r, list.metadata, scope, o, { rows }), data: items, ...(o.format === 'normal' ? { listItemsOf: r.kind } : {}) };
}

function page(r: ApiResource, meta: KubeList['metadata'], scope: string, o: ListOptions, body: { columns?: string; lines?: string[]; rows: Row[] }): ToolOutput {
  const more = meta?.continue;
  const n = body.rows.length;
  const what = (k: number) => `${k} ${r.resource} (${apiVersionOf(r)} ${r.kind})${scope}`;
  const header = (shown: number, cut: boolean): string => {
    if (cut) return `# ${shown} of the ${n} ${r.resource} on this page${scope} (the byte budget cut it; see the note at the end)\n`;
    if (!n) return `${more ? `# 0 ${r.resource} on this page; more exist: pass continue="${more}" for the next page\n` : ''}No ${r.resource} found${scope}.`;
    if (more) return `# ${what(n)}; more exist${meta?.remainingItemCount ? ` (${meta.remainingItemCount} remaining)` : ''}: pass continue="${more}" for the next page\n`;
    return body.lines ? '' : `# ${what(n)}\n`;
  };
  return {
    list: {
      header,
      ...(body.lines ? { columns: n ? body.columns : undefined, lines: body.lines } : {}),
      rows: body.rows,
      structured: {
        kind: r.kind,
        ...(more ? { continue: more } : {}),
        ...(meta?.remainingItemCount !== undefined ? { remainingItemCount: meta.remainingItemCount } : {}),
      },
      ...(o.continue ? { readWith: o.continue } : {}),
      noun: r.resource,
    },
    truncationHint: 'Or narrow with labelSelector/fieldSelector/namespace, or use format="summary".',
  };
}

export async function getObject(ctx: ToolContext, r: ApiResource, name: string, namespace: string | undefined): Promise<KubeObject> {
  const obj = await ctx.clients().rest.get<KubeObject>(resourcePath(r, r.namespaced ? (namespace ?? 'default') : undefined, name), { signal: ctx.signal });
  return { apiVersion: apiVersionOf(r), kind: r.kind, ...obj };
}

export function namespaceFor(r: ApiResource, namespace: string | undefined): string | undefined {
  return r.namespaced ? (namespace ?? 'default') : undefined;
}

export function objectRef(r: ApiResource, name: string, namespace: string | undefined): string {
  return `${r.kind.toLowerCase()} ${r.namespaced ? `${namespace ?? 'default'}/` : ''}${name}`;
}

export { toYaml };
