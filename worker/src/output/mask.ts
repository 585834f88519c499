import { parseAllDocuments, stringify } from 'yaml';

export const MASK = '***';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Decides whether one Secret may be shown unmasked (only resources_get with a per-cluster policy entry). */
export type RevealPolicy = (namespace: string | undefined, name: string | undefined) => boolean;
const NEVER: RevealPolicy = () => false;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Returns a copy with every Secret's values replaced by *** (keys kept), wherever it sits:
 * a single object, list items, nested objects, the last-applied annotation that would echo them.
 * Runs on every tool output; no argument can skip it.
 */
export function maskSecrets<T>(value: T, reveal: RevealPolicy = NEVER): T {
  return walk(value, reveal) as T;
}

function walk(value: unknown, reveal: RevealPolicy): unknown {
  if (Array.isArray(value)) return value.map((v) => walk(v, reveal));
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = walk(v, reveal);
  if (value.kind === 'Secret' && (value.apiVersion === undefined || value.apiVersion === 'v1')) {
    const meta = isRecord(value.metadata) ? value.metadata : {};
    if (!reveal(meta.namespace as string | undefined, meta.name as string | undefined)) maskSecretObject(out);
  }
  return out;
}

function maskSecretObject(secret: Record<string, unknown>): void {
  for (const field of ['data', 'stringData']) {
    const data = secret[field];
    if (isRecord(data)) secret[field] = Object.fromEntries(Object.keys(data).map((k) => [k, MASK]));
    // Not a map (a malformed manifest, a list of values): nothing of it is shown.
    else if (data !== undefined && data !== null) secret[field] = MASK;
  }
  const meta = secret.metadata;
  if (isRecord(meta) && isRecord(meta.annotations) && LAST_APPLIED in meta.annotations) {
    meta.annotations = { ...meta.annotations, [LAST_APPLIED]: MASK };
  }
}

/** Masks Secrets inside a multi-document YAML text (a Helm manifest). Unparseable text is dropped rather than risked. */
export function maskYamlManifest(text: string): string {
  try {
    const docs = parseAllDocuments(text);
    return docs
      .map((d) => {
        if (d.errors.length) throw new Error('unparseable');
        const js = d.toJS() as Json;
        return js === null ? '' : stringify(maskSecrets(js)).trimEnd();
      })
      .filter(Boolean)
      .join('\n---\n');
  } catch {
    return '[manifest omitted: it could not be parsed to mask Secrets]';
  }
}
