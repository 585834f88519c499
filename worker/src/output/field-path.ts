/**
 * The JSONPath subset kubectl's custom-columns uses, for the list tools' `fields` projection:
 * `.spec.nodeName`, `.spec.containers[*].image`, `.spec.containers[0].name`,
 * `.metadata.labels.app`, `.metadata.labels['app.kubernetes.io/name']` (or `app\.kubernetes\.io/name`).
 * A leading `{` `}` pair and a missing leading dot are tolerated.
 */
export type FieldSegment = { key: string } | { index: number } | { all: true };

export class FieldPathError extends Error {}

const KEY_CHAR = /[A-Za-z0-9_\-/$@:]/;

export function parseFieldPath(raw: string): FieldSegment[] {
  let s = raw.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1).trim();
  if (!s) throw new FieldPathError('is empty; give a path like .spec.nodeName');
  if (!s.startsWith('.') && !s.startsWith('[')) s = `.${s}`;
  const segs: FieldSegment[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '.') {
      i++;
      let key = '';
      while (i < s.length) {
        if (s[i] === '\\' && s[i + 1] === '.') {
          key += '.';
          i += 2;
        } else if (KEY_CHAR.test(s[i]!)) key += s[i++];
        else break;
      }
      if (!key) throw new FieldPathError(`has an empty or invalid name at position ${i + 1} (in "${raw}"); names are letters, digits, _ - / (write a dotted label key as ['a.b/c'] or a\\.b/c)`);
      segs.push({ key });
    } else if (c === '[') {
      const end = s.indexOf(']', i);
      if (end < 0) throw new FieldPathError(`has an unclosed [ at position ${i + 1} (in "${raw}")`);
      const inner = s.slice(i + 1, end).trim();
      const quoted = /^'([^']*)'$|^"([^"]*)"$/.exec(inner);
      if (inner === '*') segs.push({ all: true });
      else if (/^-?\d+$/.test(inner)) segs.push({ index: Number(inner) });
      else if (quoted) segs.push({ key: quoted[1] ?? quoted[2]! });
      else throw new FieldPathError(`has [${inner}] at position ${i + 1}; only [*], [N] and ['key'] are supported (no filters or slices)`);
      i = end + 1;
    } else {
      throw new FieldPathError(`has an unexpected "${c}" at position ${i + 1} (in "${raw}"); use .name, [N], [*] or ['key']`);
    }
  }
  return segs;
}

/** Every value the path reaches ([*] fans out; missing steps yield nothing). */
export function evalFieldPath(obj: unknown, segs: FieldSegment[]): unknown[] {
  let cur: unknown[] = [obj];
  for (const seg of segs) {
    const next: unknown[] = [];
    for (const v of cur) {
      if ('key' in seg) {
        if (v && typeof v === 'object' && !Array.isArray(v) && seg.key in v) next.push((v as Record<string, unknown>)[seg.key]);
      } else if (Array.isArray(v)) {
        if ('all' in seg) next.push(...v);
        else {
          const at = seg.index < 0 ? v.length + seg.index : seg.index;
          if (at >= 0 && at < v.length) next.push(v[at]);
        }
      }
    }
    cur = next;
  }
  return cur.filter((v) => v !== undefined);
}

/** A cell like kubectl custom-columns: values joined by ",", objects as JSON, nothing as <none>. */
export function fieldText(values: unknown[]): string {
  if (!values.length) return '<none>';
  return values.map((v) => (v === null ? 'null' : typeof v === 'object' ? JSON.stringify(v) : String(v))).join(',');
}
