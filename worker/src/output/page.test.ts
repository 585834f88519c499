import { describe, expect, it } from 'vitest';
import { renderListPage, type ListPage } from './page.js';

function tablePage(n: number, readWith?: string): ListPage {
  const lines = Array.from({ length: n }, (_, i) => `pod-${String(i).padStart(3, '0')}  Running  ${'x'.repeat(40)}`);
  return {
    header: (k, cut) => (cut ? `# ${k} of ${n} on this page\n` : ''),
    columns: 'NAME     STATUS   NOTE',
    lines,
    rows: lines.map((l) => ({ name: l.split(' ')[0]! })),
    structured: { kind: 'Pod', continue: 'after-page' },
    ...(readWith ? { readWith } : {}),
    noun: 'pods',
  };
}

describe('list pages under the byte budget', () => {
  it('leaves a page that fits alone, with every row in structuredContent', () => {
    const out = renderListPage({ list: tablePage(3) }, 10_000, '');
    expect((out.content[0] as { text: string }).text.split('\n')).toHaveLength(4);
    expect(out.structuredContent).toMatchObject({ kind: 'Pod', count: 3, continue: 'after-page' });
    expect((out.structuredContent as { rows: unknown[] }).rows).toHaveLength(3);
  });

  it('cuts a table between whole rows, keeps the column header, and points back to the token the page was read with', () => {
    const out = renderListPage({ list: tablePage(100, 'tok-5') }, 2048, 'Narrow it.');
    const text = (out.content[0] as { text: string }).text;
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(2048);
    const rows = text.split('\n').filter((l) => l.startsWith('pod-'));
    expect(rows.every((r) => r.endsWith('x'.repeat(40)))).toBe(true);
    expect(text).toContain('NAME     STATUS   NOTE');
    expect(text).toContain(`# ${rows.length} of 100 on this page`);
    expect(text).toContain(`${rows.length} of 100 pods shown. To page without skipping any, rerun with limit=${rows.length} and continue="tok-5"`);
    expect(text).not.toContain('after-page');
    expect(out.structuredContent).toEqual(expect.objectContaining({ count: rows.length, cut: { shown: rows.length, of: 100, rerun: { limit: rows.length, continue: 'tok-5' } } }));
    expect(out.structuredContent).not.toHaveProperty('continue');
  });

  it('following the rerun advice then continue visits every item exactly once', () => {
    // A fake apiserver list of 250 items paged by (continue = offset, limit).
    const all = Array.from({ length: 250 }, (_, i) => `item-${i}`);
    const seen: string[] = [];
    let args: { limit: number; continue?: string } = { limit: 100 };
    for (let guard = 0; guard < 100; guard++) {
      const start = Number(args.continue ?? 0);
      const slice = all.slice(start, start + args.limit);
      const next = start + args.limit < all.length ? String(start + args.limit) : undefined;
      const list: ListPage = {
        header: () => '',
        rows: slice.map((name) => ({ name })),
        structured: { kind: 'X', ...(next ? { continue: next } : {}) },
        ...(args.continue ? { readWith: args.continue } : {}),
        noun: 'items',
      };
      const out = renderListPage({ list, items: slice.map((name) => ({ metadata: { name }, pad: 'y'.repeat(60) })) }, 1500, '');
      const sc = out.structuredContent as { rows: Array<{ name: string }>; continue?: string; cut?: { rerun: { limit: number; continue?: string } } };
      seen.push(...sc.rows.map((r) => r.name));
      if (sc.cut) {
        // Rerun the same start with the smaller limit: the shown rows are not counted twice.
        seen.splice(seen.length - sc.rows.length);
        args = sc.cut.rerun;
        continue;
      }
      if (!sc.continue) break;
      args = { limit: args.limit, continue: sc.continue };
    }
    expect(seen).toEqual(all);
  });

  it('says so when not even one item fits', () => {
    const out = renderListPage({ list: { header: () => '', rows: [{ name: 'big' }], structured: { kind: 'X' }, noun: 'items' }, items: [{ blob: 'z'.repeat(5000) }] }, 1024, '');
    const text = (out.content[0] as { text: string }).text;
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1024);
    expect(text).toContain('The first of 1 items alone is over the budget');
  });
});
