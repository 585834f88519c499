import { gunzipSync } from 'node:zlib';
import { ToolRefusal } from '../../k8s/errors.js';

/** The parts of a Helm 3 release record (storage driver "secret") we read. */
export interface HelmRelease {
  name: string;
  namespace: string;
  version: number;
  info?: { status?: string; last_deployed?: string; first_deployed?: string; description?: string; notes?: string };
  chart?: { metadata?: { name?: string; version?: string; appVersion?: string }; values?: unknown };
  config?: unknown;
  manifest?: string;
}

export interface HelmSecret {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  data?: { release?: string };
}

/** Secret data is base64; inside it Helm stores base64(gzip(JSON)). */
export function decodeRelease(secret: HelmSecret): HelmRelease {
  const raw = secret.data?.release;
  if (!raw) throw new ToolRefusal(`secret ${secret.metadata?.name} holds no Helm release`);
  const inner = Buffer.from(Buffer.from(raw, 'base64').toString('utf8'), 'base64');
  const json = inner[0] === 0x1f && inner[1] === 0x8b ? gunzipSync(inner) : inner;
  return JSON.parse(json.toString('utf8')) as HelmRelease;
}

export function releaseSecretsPath(namespace?: string): string {
  return namespace ? `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets` : '/api/v1/secrets';
}
