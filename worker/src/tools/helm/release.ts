import { gunzipSync } from 'node:zlib';
import { ToolRefusal } from '../../k8s/errors.js';
import type { ToolContext } from '../define.js';

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

/** A release revision as its Secret's labels describe it: no data read. */
export interface ReleaseMeta {
  secret: string;
  namespace: string;
  name: string;
  version: number;
  status: string;
  /** Unix seconds, from Helm's modifiedAt/createdAt labels when present. */
  modifiedAt?: number;
}

/** A release secret is at most etcd's ~1.5 MiB; anything larger is refused rather than half-read. */
export const RELEASE_READ_CAP = 4 * 1024 * 1024;
/** Decompressed release JSON above this is refused (a gzip bomb would otherwise exhaust the worker). */
export const RELEASE_GUNZIP_CAP = 32 * 1024 * 1024;

/** Secret data is base64; inside it Helm stores base64(gzip(JSON)). The gunzip is capped. */
export function decodeRelease(secret: HelmSecret, gunzipCap = RELEASE_GUNZIP_CAP): HelmRelease {
  const raw = secret.data?.release;
  const name = secret.metadata?.name;
  if (!raw) throw new ToolRefusal(`secret ${name} holds no Helm release`);
  const inner = Buffer.from(Buffer.from(raw, 'base64').toString('utf8'), 'base64');
  let json: Buffer = inner;
  if (inner[0] === 0x1f && inner[1] === 0x8b) {
    try {
      json = gunzipSync(inner, { maxOutputLength: gunzipCap });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError)
        throw new ToolRefusal(`Helm release secret ${name} decompresses to more than ${gunzipCap} bytes; refused (a release that large is corrupt or hostile)`);
      throw new ToolRefusal(`Helm release secret ${name} is not valid gzip: ${(err as Error).message}`);
    }
  }
  try {
    return JSON.parse(json.toString('utf8')) as HelmRelease;
  } catch {
    throw new ToolRefusal(`Helm release secret ${name} does not hold valid release JSON`);
  }
}

export function releaseSecretsPath(namespace?: string): string {
  return namespace ? `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets` : '/api/v1/secrets';
}

const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1beta1';

function metaOf(s: HelmSecret): ReleaseMeta | undefined {
  const l = s.metadata?.labels ?? {};
  const version = Number(l.version);
  if (!l.name || !Number.isInteger(version)) return undefined;
  const ts = Number(l.modifiedAt ?? l.createdAt);
  return { secret: s.metadata?.name ?? '', namespace: s.metadata?.namespace ?? '', name: l.name, version, status: l.status ?? '', ...(Number.isFinite(ts) && ts > 0 ? { modifiedAt: ts } : {}) };
}

/**
 * Every release revision from the labels of Helm's release Secrets, read as metadata only
 * (PartialObjectMetadataList): the release payloads are never downloaded to list them.
 */
export async function listReleaseMetas(ctx: ToolContext, namespace: string | undefined, opts: { name?: string; cap: number }): Promise<{ metas: ReleaseMeta[]; complete: boolean }> {
  const rest = ctx.clients().rest;
  const metas: ReleaseMeta[] = [];
  let read = 0;
  let cont: string | undefined;
  do {
    const page = await rest.get<{ items?: HelmSecret[]; metadata?: { continue?: string } }>(releaseSecretsPath(namespace), {
      query: { labelSelector: `owner=helm${opts.name ? `,name=${opts.name}` : ''}`, limit: Math.min(500, opts.cap - read), continue: cont },
      accept: METADATA_ACCEPT,
      signal: ctx.signal,
    });
    for (const s of page.items ?? []) {
      read++;
      const m = metaOf(s);
      if (m) metas.push(m);
    }
    cont = page.metadata?.continue || undefined;
  } while (cont && read < opts.cap);
  return { metas, complete: !cont };
}

/** The highest revision of each release (namespace/name). */
export function latestRevisions(metas: ReleaseMeta[]): ReleaseMeta[] {
  const latest = new Map<string, ReleaseMeta>();
  for (const m of metas) {
    const key = `${m.namespace}/${m.name}`;
    const prev = latest.get(key);
    if (!prev || m.version > prev.version) latest.set(key, m);
  }
  return [...latest.values()];
}

/** Reads and decodes one release secret; a response over the read cap is refused, never parsed half-read. */
export async function fetchRelease(ctx: ToolContext, namespace: string, secret: string): Promise<HelmRelease> {
  return (await fetchReleaseSecret(ctx, namespace, secret)).release;
}

/** The release secret as stored (for a write that must keep its resourceVersion) and its decoded release. */
export async function fetchReleaseSecret(ctx: ToolContext, namespace: string, secret: string): Promise<{ secret: HelmSecret & { metadata: { resourceVersion?: string } }; release: HelmRelease }> {
  const res = await ctx.clients().rest.request('GET', `${releaseSecretsPath(namespace)}/${encodeURIComponent(secret)}`, { maxBytes: RELEASE_READ_CAP, signal: ctx.signal });
  if (res.truncated) throw new ToolRefusal(`Helm release secret ${namespace}/${secret} is over ${RELEASE_READ_CAP} bytes; refused rather than read in part`);
  let parsed: HelmSecret & { metadata: { resourceVersion?: string } };
  try {
    parsed = JSON.parse(res.text) as typeof parsed;
  } catch {
    throw new ToolRefusal(`the apiserver's answer for secret ${namespace}/${secret} is not JSON`);
  }
  return { secret: parsed, release: decodeRelease(parsed) };
}

/** Release Secrets decoded at once: each is up to ~1.5 MiB, so a handful in flight bounds the worker's memory. */
export const RELEASE_DECODE_CONCURRENCY = 8;

