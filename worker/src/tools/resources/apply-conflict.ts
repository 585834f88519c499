import type { KubeApiError } from '../../k8s/errors.js';
import type { KubeObject } from './common.js';

/**
 * A server-side apply conflict (HTTP 409 with FieldManagerConflict causes) told as what to do: which field
 * managers own which of the fields the manifest sets, that nothing was changed, and that `force: true` takes
 * ownership. Undefined when the error is not such a conflict.
 */
export function explainConflict(err: KubeApiError): string | undefined {
  if (err.status !== 409) return undefined;
  const byManager = new Map<string, string[]>();
  for (const c of err.causes) {
    if (c.reason !== 'FieldManagerConflict') continue;
    const manager = /conflict with "([^"]*)"(?: with subresource "([^"]*)")?/.exec(c.message ?? '');
    const who = manager ? `"${manager[1]}"${manager[2] ? ` (through the ${manager[2]} subresource)` : ''}` : 'another field manager';
    byManager.set(who, [...(byManager.get(who) ?? []), c.field ?? '(a field)']);
  }
  return conflictText(byManager);
}

interface ManagedFieldsEntry {
  manager?: string;
  subresource?: string;
  fieldsV1?: { 'f:data'?: Record<string, unknown> };
}

/**
 * The conflict a Secret's `data` keys would meet, decided from the live object's managedFields alone. The
 * apiserver raises a conflict only when the applied value differs from the other manager's, so its answer
 * tells a right guess of a value from a wrong one; a Secret's keys another manager owns are therefore refused
 * (without force) whatever the values, exactly as a conflict. Undefined when no other manager owns them.
 */
export function secretDataConflict(live: KubeObject | undefined, applied: KubeObject, fieldManager: string): string | undefined {
  const data = applied.data;
  if (!live || typeof data !== 'object' || data === null) return undefined;
  const keys = new Set(Object.keys(data).map((k) => `f:${k}`));
  const byManager = new Map<string, string[]>();
  for (const e of ((live.metadata as { managedFields?: ManagedFieldsEntry[] } | undefined)?.managedFields ?? [])) {
    if (e.manager === fieldManager && !e.subresource) continue;
    const owned = Object.keys(e.fieldsV1?.['f:data'] ?? {}).filter((k) => keys.has(k));
    if (!owned.length) continue;
    const who = `"${e.manager ?? ''}"${e.subresource ? ` (through the ${e.subresource} subresource)` : ''}`;
    byManager.set(who, [...(byManager.get(who) ?? []), ...owned.map((k) => `.data.${k.slice(2)}`)]);
  }
  return conflictText(byManager);
}

function conflictText(byManager: Map<string, string[]>): string | undefined {
  if (!byManager.size) return undefined;
  const owners = [...byManager].map(([who, fields]) => `${who} owns ${fields.join(', ')}`).join('; ');
  const count = [...byManager.values()].reduce((n, f) => n + f.length, 0);
  return (
    `Conflict: the manifest sets ${count === 1 ? 'a field' : `${count} fields`} another field manager owns: ${owners}. Nothing was changed. ` +
    'To take ownership (your values win and these fields become yours), apply again with force: true; ' +
    'to leave them to their owner, remove them from the manifest.'
  );
}
