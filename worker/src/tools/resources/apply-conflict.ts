import type { KubeApiError } from '../../k8s/errors.js';

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
  if (!byManager.size) return undefined;
  const owners = [...byManager].map(([who, fields]) => `${who} owns ${fields.join(', ')}`).join('; ');
  const count = [...byManager.values()].reduce((n, f) => n + f.length, 0);
  return (
    `Conflict: the manifest sets ${count === 1 ? 'a field' : `${count} fields`} another field manager owns: ${owners}. Nothing was changed. ` +
    'To take ownership (your values win and these fields become yours), apply again with force: true; ' +
    'to leave them to their owner, remove them from the manifest.'
  );
}
