import { z } from 'zod';
import { ToolRefusal } from '../../k8s/errors.js';
import { evalFieldPath, FieldPathError, fieldText, parseFieldPath } from '../../output/field-path.js';
import { maskSecrets } from '../../output/mask.js';
import { columnKey, renderColumnLines, tableCells, type KubeTable, type OutputFormat } from '../../output/format.js';
import type { Row } from '../../output/page.js';

/** How a summary list is shown: kubectl's -o wide, --show-labels and -o custom-columns. */
export interface ListView {
  wide?: boolean;
  showLabels?: boolean;
  fields?: string[];
}

// A path longer than this is no column anyone reads; its header alone would use up the output budget.
const MAX_FIELD_EXPR = 256;

const fieldExpr = z.string().max(MAX_FIELD_EXPR, `is longer than ${MAX_FIELD_EXPR} characters; give a path like .spec.nodeName`).superRefine((s, ctx) => {
  try {
    parseFieldPath(s);
  } catch (err) {
    if (!(err instanceof FieldPathError)) throw err;
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)} ${err.message}` });
  }
});

export const listViewArgs = {
  wide: z.boolean().default(false).describe('Also show the columns kubectl -o wide adds (pods: IP, node, nominated node, readiness gates; deployments: containers, images, selector; ...). Summary format only.'),
  showLabels: z.boolean().default(false).describe('Add a LABELS column (k=v,...), like kubectl --show-labels. Summary format only.'),
  fields: z
    .array(fieldExpr)
    .min(1)
    .max(12)
    .optional()
    .describe(
      'Show only NAME (and NAMESPACE) plus these fields, one column each, like kubectl -o custom-columns. JSONPath subset: ".spec.nodeName", ".spec.template.spec.containers[*].image", ".status.containerStatuses[0].restartCount", ".metadata.labels.app", ".metadata.labels[\'app.kubernetes.io/name\']". Several values join with ","; missing ones show <none>. Each structured row carries the field under its expression as key. Summary format only.',
    ),
};

/** wide/showLabels/fields shape table columns: with YAML they would be silently ignored, so they are refused. */
export function assertViewFitsFormat(o: ListView, format: OutputFormat): void {
  if (format === 'summary') return;
  const asked = [o.wide && 'wide', o.showLabels && 'showLabels', o.fields?.length && 'fields'].filter(Boolean);
  if (asked.length) throw new ToolRefusal(`${asked.join(', ')}: only for format="summary" (they choose table columns); drop ${asked.length > 1 ? 'them' : 'it'} or use format="summary"`);
}

/** What the Table rows must carry: whole objects for fields (and health), metadata for labels or the namespace column. */
export function includeObjectFor(o: ListView & { needObject?: boolean }, allNamespaces: boolean): 'None' | 'Metadata' | 'Object' {
  if (o.fields?.length || o.needObject) return 'Object';
  return o.showLabels || allNamespaces ? 'Metadata' : 'None';
}

type Obj = { metadata?: { name?: string; namespace?: string; labels?: Record<string, string> } };

/** An extra column computed from each row's object (e.g. PROBLEM for unhealthy pods). */
export interface ExtraColumn {
  header: string;
  key: string;
  cell(obj: unknown): string;
}

/** Labels the way kubectl --show-labels prints them. */
export function labelsText(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}

/**
 * The columns, text lines and structured rows of a Table page in a view; rows carry exactly the columns the text shows.
 * `typeMeta` stamps each row's object before Secret masking, so a field path never reads a Secret value.
 */
export function viewTable(table: KubeTable, o: ListView & { namespaceColumn: boolean; typeMeta: { apiVersion: string; kind: string } }, extra: ExtraColumn[] = []): { columns: string; lines: string[]; rows: Row[] } {
  // Masked here because cells are text: the page renderer masks YAML items, not strings read out of objects.
  const objects = table.rows.map((r) => maskSecrets({ ...(r.object ?? {}), ...o.typeMeta }) as Obj);
  let headers: string[];
  let keys: string[];
  let cells: string[][];
  if (o.fields?.length) {
    const paths = o.fields.map((f) => parseFieldPath(f));
    headers = [...(o.namespaceColumn ? ['NAMESPACE'] : []), 'NAME', ...o.fields];
    keys = [...(o.namespaceColumn ? ['namespace'] : []), 'name', ...o.fields];
    cells = objects.map((obj) => [...(o.namespaceColumn ? [obj.metadata?.namespace ?? ''] : []), obj.metadata?.name ?? '', ...paths.map((p) => fieldText(evalFieldPath(obj, p)))]);
  } else {
    ({ headers, cells } = tableCells(table, { namespaceColumn: o.namespaceColumn, wide: o.wide }));
    keys = headers.map(columnKey);
  }
  if (o.showLabels) {
    headers.push('LABELS');
    keys.push('labels');
    objects.forEach((obj, i) => cells[i]!.push(labelsText(obj.metadata?.labels)));
  }
  for (const x of extra) {
    headers.push(x.header);
    keys.push(x.key);
    objects.forEach((obj, i) => cells[i]!.push(x.cell(obj)));
  }
  const { columns, lines } = renderColumnLines(headers, cells);
  const rows = cells.map((r) => Object.fromEntries(keys.map((k, i) => [k, r[i] ?? ''])));
  return { columns, lines, rows };
}
