// Reading an audit log (JSON Lines) that a gateway may still be appending to.
import { existsSync, readFileSync } from 'node:fs';

/** The whole lines of `file`, parsed; a last line still being written is left for the next read. */
export function readAuditLines(file: string): Array<Record<string, unknown>> {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
