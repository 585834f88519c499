/**
 * Field ownership for helm_rollback. Helm 3 writes objects with client-side patches as manager "helm": a
 * server-side apply by another manager sets the fields it names but never removes fields "helm" owns, so a
 * rollback by apply alone would keep what the bad revision added (an env var, a ConfigMap key). Helm's own
 * three-way merge removes them. Doing the same with server-side apply: the fields "helm" owns are first
 * handed to the applying manager (what kubectl does when it upgrades client-side apply to server-side), then
 * the apply removes every field that manager owns and the target revision does not set; fields other
 * managers own (an HPA's replicas, a label someone added) stay, as with helm.
 */

/** A managedFields fieldsV1 tree: "f:name", "k:{json}", "v:json", "i:N" keys, "." for the node itself. */
export type FieldSet = { [k: string]: FieldSet };
/** Fields to remove: `true` removes the whole field or list item, a nested tree removes inside it. */
export type Removal = { [k: string]: Removal | true };

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: FieldSet;
  subresource?: string;
}

/** The manager name helm (3 and 4) writes release objects with. */
export const HELM_MANAGER = 'helm';

function isHelm(e: ManagedFieldsEntry): boolean {
  return e.manager === HELM_MANAGER && !e.subresource;
}

function isOurs(e: ManagedFieldsEntry, manager: string): boolean {
  return e.manager === manager && e.operation === 'Apply' && !e.subresource;
}

export function unionFields(a: FieldSet = {}, b: FieldSet = {}): FieldSet {
  const out: FieldSet = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? unionFields(out[k], v) : v;
  return out;
}

/** What `owned` has that neither `target` (the applied revision) nor any of `others` (other managers) has. */
export function removalOf(owned: FieldSet, target: FieldSet | undefined, others: FieldSet[]): Removal {
  const out: Removal = {};
  for (const [k, sub] of Object.entries(owned)) {
    if (k === '.') continue;
    const t = target?.[k];
    const o = others.map((x) => x[k]).filter((x): x is FieldSet => x !== undefined);
    if (!t && !o.length) {
      out[k] = true;
      continue;
    }
    const inner = removalOf(sub, t, o);
    if (Object.keys(inner).length) out[k] = inner;
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function itemIndex(items: unknown[], key: string): number {
  if (key.startsWith('i:')) return Number(key.slice(2));
  let want: unknown;
  try {
    want = JSON.parse(key.slice(2));
  } catch {
    return -1;
  }
  if (key.startsWith('v:')) return items.findIndex((x) => JSON.stringify(x) === JSON.stringify(want));
  if (key.startsWith('k:') && isRecord(want)) return items.findIndex((x) => isRecord(x) && Object.entries(want as Record<string, unknown>).every(([f, v]) => JSON.stringify(x[f]) === JSON.stringify(v)));
  return -1;
}

/** The object with the fields of a removal taken out (for showing what an apply after adoption leaves). */
export function applyRemoval(value: unknown, r: Removal): unknown {
  if (Array.isArray(value)) {
    const drop = new Set<number>();
    const out = [...value];
    for (const [k, sub] of Object.entries(r)) {
      const i = itemIndex(out, k);
      if (i < 0 || i >= out.length) continue;
      if (sub === true) drop.add(i);
      else out[i] = applyRemoval(out[i], sub);
    }
    return out.filter((_, i) => !drop.has(i));
  }
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = { ...value };
  for (const [k, sub] of Object.entries(r)) {
    if (!k.startsWith('f:')) continue;
    const name = k.slice(2);
    if (!(name in out)) continue;
    if (sub === true) delete out[name];
    else out[name] = applyRemoval(out[name], sub);
  }
  return out;
}

/**
 * What an apply of the target by `manager` removes once helm's fields are adopted: fields helm or `manager`
 * owned on the live object that the target (the dry-run result's Apply entry of `manager`) does not set and
 * no other manager owns.
 */
export function rollbackRemoval(live: ManagedFieldsEntry[], applied: ManagedFieldsEntry[], manager: string): Removal {
  let owned: FieldSet = {};
  const others: FieldSet[] = [];
  for (const e of live) {
    if (isHelm(e) || isOurs(e, manager)) owned = unionFields(owned, e.fieldsV1);
    else if (e.fieldsV1) others.push(e.fieldsV1);
  }
  let target = applied.find((e) => isOurs(e, manager))?.fieldsV1;
  // A Secret's stringData is written into data: applying stringData.x sets data.x, which must not count as removed.
  if (target?.['f:stringData']) target = { ...target, 'f:data': unionFields(target['f:data'], target['f:stringData']) };
  return removalOf(owned, target, others);
}

/**
 * The live managedFields with helm's entries folded into `manager`'s Apply entry, or undefined when helm owns
 * nothing here (nothing to adopt).
 */
export function adoptHelmFields(live: ManagedFieldsEntry[], manager: string, apiVersion: string): ManagedFieldsEntry[] | undefined {
  if (!live.some(isHelm)) return undefined;
  let fields: FieldSet = {};
  const keep: ManagedFieldsEntry[] = [];
  for (const e of live) {
    if (isHelm(e) || isOurs(e, manager)) fields = unionFields(fields, e.fieldsV1);
    else keep.push(e);
  }
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return [...keep, { manager, operation: 'Apply', apiVersion, time, fieldsType: 'FieldsV1', fieldsV1: fields }];
}
