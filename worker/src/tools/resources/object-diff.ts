import { slimObject } from '../../output/format.js';
import { MASK, maskSecrets } from '../../output/mask.js';

/**
 * Field-level differences between a live object and what a write would store (a server-side dry run), for
 * apply's `diff` and for the non-destructive check of apply and patch.
 *
 * Paths read like the object: `spec.template.spec.containers[app].image` (list items with a `name` are keyed
 * by it, so a reordered list is not a change), `metadata.labels["app.kubernetes.io/name"]`. Changes are
 * decided on the whole objects, so a value set to its default is a change, not a removal; what is shown keeps
 * only paths present in the `normal` view of either side, so defaults the apiserver fills in add no lines.
 * Values are shown from Secret-masked copies: a changed Secret value is reported without either value, and a
 * Secret value present on both sides is never compared (always one "not compared" line), or a diff of a guessed
 * value would answer whether the guess is right.
 */
export interface Change {
  op: '+' | '-' | '~';
  path: string;
  /** Rendered (masked) values, JSON, shortened. */
  before?: string;
  after?: string;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What the apiserver changes on every write, or a write cannot set: never a change the user made. */
const VOLATILE = new Set(['metadata.resourceVersion', 'metadata.generation', 'metadata.creationTimestamp', 'metadata.uid', 'metadata.managedFields', 'status']);

function key(parent: string, k: string): string {
  const seg = /^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k);
  if (!parent) return seg;
  return seg.startsWith('"') ? `${parent}[${seg}]` : `${parent}.${seg}`;
}

function namedItems(a: unknown[]): string[] | undefined {
  const names = a.map((v) => (isObj(v) && typeof v.name === 'string' ? v.name : undefined));
  if (!names.length || names.some((n) => n === undefined) || new Set(names).size !== names.length) return undefined;
  return names as string[];
}

interface Leaf {
  value: unknown;
  /** Enclosing paths, outermost first (without the root). */
  parents: string[];
}

/** Leaf paths → values; lists of scalars and empty structures are leaves (their presence carries meaning). */
export function flatten(value: unknown, path = '', out = new Map<string, Leaf>(), parents: string[] = []): Map<string, Leaf> {
  if (VOLATILE.has(path)) return out;
  const inner = path ? [...parents, path] : parents;
  if (isObj(value) && Object.keys(value).length) {
    for (const [k, v] of Object.entries(value)) flatten(v, key(path, k), out, inner);
  } else if (Array.isArray(value) && value.some((v) => isObj(v) || Array.isArray(v))) {
    const names = namedItems(value);
    value.forEach((v, i) => flatten(v, `${path}[${names ? names[i]! : i}]`, out, inner));
  } else {
    out.set(path, { value, parents });
  }
  return out;
}

function render(v: unknown): string {
  const s = v === undefined ? 'undefined' : JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** A Secret value on both sides: neither shown nor compared, so equal and different values read the same. */
const SECRET_VALUE = (path: string): Change => ({ op: '~', path, before: '(Secret value, not shown)', after: '(not compared: Secret values are never compared)' });

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const within = (k: string, p: string) => k === p || k.startsWith(`${p}.`) || k.startsWith(`${p}[`);

/** The changes from `live` (undefined: the object does not exist yet) to `next`, sorted by path. */
export function diffObjects(live: unknown, next: unknown): Change[] {
  const both = (view: (o: unknown) => unknown) => [live === undefined ? new Map<string, Leaf>() : flatten(view(live)), flatten(view(next))] as const;
  const raw = both((o) => o);
  const masked = both((o) => maskSecrets(o));
  const shown = both((o) => slimObject(o, 'normal'));
  const keys = [[...raw[0].keys()], [...raw[1].keys()]] as const;
  const paths = [...new Set([...keys[0], ...keys[1]])];
  // An empty `{}`/`[]` on one side with fields under it on the other is the container, filled or emptied: its
  // fields are the changes.
  const under = (side: 0 | 1, p: string) => keys[side].some((k) => k.startsWith(`${p}.`) || k.startsWith(`${p}[`));
  const changes: Change[] = [];
  /** A removed or added subtree (a whole list item, a whole map) is one change, not one per leaf. */
  const groups = new Map<string, Change & { fields: Record<string, unknown>; leaves: Change[] }>();
  for (const path of paths) {
    const [a, b] = [raw[0].has(path), raw[1].has(path)];
    if (a && b && masked[0].get(path)?.value === MASK && masked[1].get(path)?.value === MASK && raw[0].get(path)!.value !== MASK) {
      changes.push(SECRET_VALUE(path));
      continue;
    }
    if (a && b && same(raw[0].get(path)!.value, raw[1].get(path)!.value)) continue;
    if ((a && !b && under(1, path)) || (b && !a && under(0, path))) continue;
    if (!shown[0].has(path) && !shown[1].has(path)) continue;
    const [ma, mb] = [masked[0].get(path)?.value, masked[1].get(path)?.value];
    if (a && b) {
      changes.push({ op: '~', path, before: render(ma), after: render(mb) });
      continue;
    }
    const side = b ? 1 : 0;
    const other = keys[side === 1 ? 0 : 1];
    const top = live === undefined ? undefined : raw[side].get(path)!.parents.find((p) => !other.some((k) => within(k, p)));
    const value = side === 1 ? mb : ma;
    if (!top) {
      changes.push(side === 1 ? { op: '+', path, after: render(value) } : { op: '-', path, before: render(value) });
      continue;
    }
    const leaf: Change = side === 1 ? { op: '+', path, after: render(value) } : { op: '-', path, before: render(value) };
    const g = groups.get(top) ?? { op: leaf.op, path: top, fields: {}, leaves: [] };
    g.fields[path.slice(top.length).replace(/^\./, '')] = value;
    g.leaves.push(leaf);
    groups.set(top, g);
  }
  for (const { fields, leaves, ...g } of groups.values()) {
    if (leaves.length === 1) changes.push(leaves[0]!);
    else changes.push(g.op === '+' ? { ...g, after: render(fields) } : { ...g, before: render(fields) });
  }
  return changes.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

/** One line per change, at most `max` (then how many more). */
export function diffLines(changes: readonly Change[], max = 40): string[] {
  const lines = changes.slice(0, max).map((c) => (c.op === '+' ? `  + ${c.path}: ${c.after}` : c.op === '-' ? `  - ${c.path}: ${c.before}` : `  ~ ${c.path}: ${c.before} → ${c.after}`));
  if (changes.length > max) lines.push(`  ... and ${changes.length - max} more changes`);
  return lines;
}

const REPLICAS = /(^|\.)spec\.replicas$/;

/** What in a change destroys: a field removed, or a workload scaled to 0. Paths only, never values. */
export function destructiveChanges(changes: readonly Change[]): string[] {
  const out: string[] = [];
  for (const c of changes) {
    if (c.op === '-') out.push(`removes ${c.path}`);
    else if (REPLICAS.test(c.path) && c.after === '0' && c.before !== '0') out.push(`sets ${c.path} to 0 (stops every pod)`);
  }
  return out;
}
