import yaml from 'js-yaml';
import { slimDefaults } from './slim.js';

export const FORMATS = ['summary', 'normal', 'full'] as const;
export type OutputFormat = (typeof FORMATS)[number];

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * `normal`: what a reader needs; drops managedFields and the last-applied annotation (both large,
 * both bookkeeping that repeats the object) and what the apiserver filled in by default (see slim.ts).
 * Never drops a value whose presence carries meaning.
 */
export function slimObject<T>(obj: T, format: OutputFormat): T {
  if (format === 'full') return obj;
  return slimDefaults(stripBookkeeping(obj, format));
}

function stripBookkeeping<T>(obj: T, format: OutputFormat): T {
  if (format === 'full' || typeof obj !== 'object' || obj === null) return obj;
  const o = obj as Record<string, unknown>;
  const meta = o.metadata as Record<string, unknown> | undefined;
  if (!meta) return obj;
  const { managedFields: _mf, ...rest } = meta;
  const annotations = rest.annotations as Record<string, string> | undefined;
  if (annotations && LAST_APPLIED in annotations) {
    const { [LAST_APPLIED]: _la, ...keep } = annotations;
    if (Object.keys(keep).length) rest.annotations = keep;
    else delete rest.annotations;
  }
  return { ...o, metadata: rest } as T;
}

/** YAML for the model (js-yaml: several times faster than `yaml` on large lists, which matters for latency). */
export function toYaml(value: unknown): string {
  return yaml.dump(value, { lineWidth: -1, noRefs: true, noArrayIndent: true });
}

/** Human age like kubectl: 5s, 3m, 4h, 2d. */
export function age(timestamp: string | undefined, now = Date.now()): string {
  if (!timestamp) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** Left-aligned columns separated by two spaces, like `kubectl get`. */
export function renderColumns(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** Like renderColumns, but one line per row (newlines inside cells become spaces), so a page can be cut between rows. */
export function renderColumnLines(headers: string[], rows: string[][]): { columns: string; lines: string[] } {
  const flat = rows.map((r) => r.map((c) => c.replace(/\s*\n\s*/g, ' ')));
  const [columns, ...lines] = renderColumns(headers, flat).split('\n');
  return { columns: columns!, lines };
}

/** "Nominated Node" → "nominatedNode", "UP-TO-DATE" → "upToDate": the structured key of a column. */
export function columnKey(header: string): string {
  const words = header.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  return words.map((w, i) => (i ? w[0]!.toUpperCase() + w.slice(1) : w)).join('') || 'value';
}

/** Rows as objects keyed by columnKey(header). */
export function rowObjects(headers: string[], rows: string[][]): Array<Record<string, string>> {
  const keys = headers.map(columnKey);
  return rows.map((r) => Object.fromEntries(keys.map((k, i) => [k, r[i] ?? ''])));
}

/** A meta.k8s.io/v1 Table, as the apiserver renders `kubectl get` columns for any kind (CRD printer columns too). */
export interface KubeTable {
  columnDefinitions: Array<{ name: string; type: string; format?: string; priority: number }>;
  rows: Array<{ cells: unknown[]; object?: { metadata?: { namespace?: string; name?: string } } }>;
  metadata?: { continue?: string; remainingItemCount?: number; resourceVersion?: string };
}

export const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

/** Renders priority-0 columns (what kubectl shows without -o wide), adding NAMESPACE when rows span namespaces. */
export function renderTable(table: KubeTable, opts: { namespaceColumn: boolean; wide?: boolean }): { text: string; rows: number } {
  const { headers, cells } = tableCells(table, opts);
  return { text: renderColumns(headers, cells), rows: cells.length };
}

/** The headers and cell texts of a Table, NAMESPACE first when rows span namespaces. */
export function tableCells(table: KubeTable, opts: { namespaceColumn: boolean; wide?: boolean }): { headers: string[]; cells: string[][] } {
  const cols = table.columnDefinitions.map((c, i) => ({ ...c, i })).filter((c) => opts.wide || c.priority === 0);
  const headers = cols.map((c) => c.name.toUpperCase());
  const cells = table.rows.map((r) => cols.map((c) => cellText(r.cells[c.i], c.name)));
  if (opts.namespaceColumn) {
    headers.unshift('NAMESPACE');
    table.rows.forEach((r, idx) => cells[idx]!.unshift(r.object?.metadata?.namespace ?? ''));
  }
  return { headers, cells };
}

function cellText(cell: unknown, _name: string): string {
  if (cell === null || cell === undefined) return '<none>';
  if (typeof cell === 'string') return cell === '' ? '<none>' : cell;
  if (typeof cell === 'number' || typeof cell === 'boolean') return String(cell);
  return JSON.stringify(cell);
}
