import type { CallToolResult } from '@modelcontextprotocol/server';
import { applyByteBudget } from './budget.js';
import { toYaml } from './format.js';
import { maskSecrets, type RevealPolicy } from './mask.js';

/** One structured row of a list: the columns the text shows, as strings. */
export type Row = Record<string, string>;

/**
 * A list page, rendered item by item so the byte budget cuts between whole items: the model is
 * told "k of n shown" and how to rerun without skipping any, never handed a continue token that
 * would skip the items the budget dropped.
 */
export interface ListPage {
  /** Text before the items, for `shown` of the page's items; `cut` = the budget dropped some. */
  header(shown: number, cut: boolean): string;
  /** Table pages: the column header line and one rendered line per item. YAML pages leave these out (items are `data`). */
  columns?: string;
  lines?: string[];
  /** One structured row per item, same order as the items. */
  rows: Row[];
  /** structuredContent besides rows/count (kind, continue, remainingItemCount, ...). */
  structured: Record<string, unknown>;
  /** The continue token this page was read with (absent for the first page): rerunning with it and limit=k resumes exactly. */
  readWith?: string;
  /** What the items are called in messages ("pods", "events"). */
  noun: string;
}

export interface PageInput {
  list: ListPage;
  /** YAML pages: the items (masked here, with `reveal`). */
  items?: unknown[];
  reveal?: RevealPolicy;
  /** Drop apiVersion/kind from each item after masking (they are stated once in the header). */
  dropTypeMeta?: boolean;
}

function dropTypeMeta(item: unknown): unknown {
  if (typeof item !== 'object' || item === null) return item;
  const { apiVersion: _v, kind: _k, ...rest } = item as Record<string, unknown>;
  return rest;
}

function bytes(s: string): number {
  return Buffer.byteLength(s);
}

function join(head: string, body: string): string {
  return head && body && !head.endsWith('\n') ? `${head}\n${body}` : head + body;
}

/** The single renderer of list pages (called by the server's render): masking, YAML per item, whole-item cut. */
export function renderListPage(input: PageInput, budget: number, hint: string): CallToolResult {
  const { list } = input;
  let pieces: string[];
  if (input.items) {
    let masked = maskSecrets(input.items, input.reveal);
    if (input.dropTypeMeta) masked = masked.map(dropTypeMeta);
    // Dumping [item] per item concatenates to exactly the dump of the whole array.
    pieces = masked.map((item) => toYaml([item]));
  } else {
    pieces = (list.lines ?? []).map((l) => `${l}\n`);
  }
  const n = pieces.length;
  const columns = list.columns ? `${list.columns}\n` : '';
  const build = (k: number, cut: boolean, marker = '') => {
    const text = join(list.header(k, cut), (k || !cut ? columns : '') + pieces.slice(0, k).join(''));
    return (marker || !input.items ? text.replace(/\n$/, '') : text) + marker;
  };
  const whole = build(n, false);
  const structured = (k: number, cut: boolean): Record<string, unknown> => {
    const s: Record<string, unknown> = { ...list.structured, count: k, rows: maskSecrets(list.rows.slice(0, k)) };
    if (cut) {
      delete s.continue;
      s.cut = { shown: k, of: n, rerun: { limit: Math.max(k, 1), ...(list.readWith ? { continue: list.readWith } : {}) } };
    }
    return s;
  };
  if (bytes(whole) <= budget) return { content: [{ type: 'text', text: whole }], structuredContent: structured(n, false) };

  const marker = (k: number) =>
    `\n[cut at a whole item by this worker's ${budget}-byte budget: ${k} of ${n} ${list.noun} shown. ` +
    `To page without skipping any, rerun with limit=${Math.max(k, 1)}${list.readWith ? ` and continue="${list.readWith}"` : ' and no continue'}; ` +
    `this page's continue token would skip the ${n - k} not shown. ${hint}]`;
  // Largest k that fits (sizes grow with k, so a binary search over the prefix sums is exact).
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (bytes(build(mid, true, marker(mid))) <= budget) lo = mid;
    else hi = mid - 1;
  }
  const k = lo;
  if (k === 0) {
    // Not even one item fits: show the first item cut at a line, and say so.
    const text = applyByteBudget(join(list.header(1, true), columns + (pieces[0] ?? '')), budget, `The first of ${n} ${list.noun} alone is over the budget: rerun with limit=1 and format="summary", or read it with resources_get. ${hint}`).text;
    return { content: [{ type: 'text', text }], structuredContent: structured(0, true) };
  }
  return { content: [{ type: 'text', text: build(k, true, marker(k)) }], structuredContent: structured(k, true) };
}
