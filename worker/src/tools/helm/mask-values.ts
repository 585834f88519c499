import { parseAllDocuments } from 'yaml';
import { MASK, maskSecrets, maskYamlManifest } from '../../output/mask.js';

/** Keys whose values are credentials in Helm charts (passwords, tokens, keys, certificates). */
const SENSITIVE_KEY = /(pass(word|wd|phrase)?|secret|token|api[-_]?key|private[-_]?key|credential|auth|cert|key$|dsn|connection[-_]?string)/i;

export interface MaskedValues {
  masked: unknown;
  /** Every string value that was masked: Helm NOTES and manifests echo them, so they are masked there too. */
  hidden: Set<string>;
}

/**
 * Masks Helm values under sensitive-looking keys. Under such a key every string and number is
 * masked, in arrays and nested maps too (`passwords: [a, b]`, `auth: {users: [{pw: x}]}`);
 * booleans stay (they say whether a feature is on, not what the credential is).
 */
export function maskHelmValues(value: unknown, hidden = new Set<string>()): MaskedValues {
  const walk = (v: unknown, sensitive: boolean): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, sensitive));
    if (typeof v === 'object' && v !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, sensitive || SENSITIVE_KEY.test(k));
      return out;
    }
    if (sensitive && (typeof v === 'string' || typeof v === 'number') && v !== '') {
      hidden.add(String(v));
      return MASK;
    }
    return v;
  };
  return { masked: maskSecrets(walk(value, false)), hidden };
}

/** Replaces every occurrence of a hidden value (and its base64) in free text such as NOTES. Short values are left: they would mask common words. */
export function maskKnownValues(text: string, hidden: Set<string>): string {
  let out = text;
  const needles = [...hidden].filter((h) => h.length >= 4).flatMap((h) => [h, Buffer.from(h).toString('base64')]);
  for (const n of needles.sort((x, y) => y.length - x.length)) out = out.split(n).join(MASK);
  // "password: x", "token=x" and "password x" phrases a chart's NOTES print directly (a generated credential is in no
  // values tree). Masking the word after "password" in prose costs a word; showing a credential costs the credential.
  return out.replace(/((?:pass(?:word|wd)?|secret|token|api[-_]?key)(?:\s*[:=]\s*|[ \t]+))(["']?)[^\s"']+\2/gi, `$1${MASK}`);
}

/** A rendered manifest with Secrets masked and any hidden value masked wherever else it appears (ConfigMaps, env). */
export function maskManifest(manifest: string, hidden: Set<string>): string {
  return maskKnownValues(maskYamlManifest(manifest), hidden);
}

/** Adds the values of every Secret in a rendered manifest (generated passwords are not in the values) to `hidden`. */
export function collectManifestSecrets(manifest: string, hidden: Set<string>): Set<string> {
  try {
    for (const d of parseAllDocuments(manifest)) {
      const o = d.toJS() as { kind?: string; data?: Record<string, unknown>; stringData?: Record<string, unknown> } | null;
      if (!o || o.kind !== 'Secret') continue;
      for (const v of Object.values(o.stringData ?? {})) if (typeof v === 'string' && v) hidden.add(v);
      for (const v of Object.values(o.data ?? {})) {
        if (typeof v !== 'string' || !v) continue;
        hidden.add(v);
        hidden.add(Buffer.from(v, 'base64').toString('utf8'));
      }
    }
  } catch {
    // An unparseable manifest is dropped by maskYamlManifest; nothing to collect.
  }
  return hidden;
}
