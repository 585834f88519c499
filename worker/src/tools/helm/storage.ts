import { gzipSync } from 'node:zlib';
import type { ToolContext } from '../define.js';
import { releaseSecretsPath, type HelmRelease, type HelmSecret } from './release.js';

export type StoredSecret = HelmSecret & { metadata: { resourceVersion?: string } };

/** Helm's storage key for a revision (pkg/storage: "sh.helm.release.v1.<name>.v<version>"). */
export function releaseSecretName(name: string, version: number): string {
  return `sh.helm.release.v1.${name}.v${version}`;
}

/** Helm's encodeRelease: base64(gzip(JSON)); the Secret's data field adds the outer base64. */
export function encodeRelease(release: HelmRelease): string {
  const inner = gzipSync(Buffer.from(JSON.stringify(release)), { level: 9 }).toString('base64');
  return Buffer.from(inner).toString('base64');
}

/** The labels Helm's Secret driver sets: the release's own labels, then name, owner, status, version. */
function storageLabels(release: HelmRelease & { labels?: Record<string, string> }, extra: Record<string, string>): Record<string, string> {
  return { ...(release.labels ?? {}), name: release.name, owner: 'helm', status: release.info?.status ?? 'unknown', version: String(release.version), ...extra };
}

function unixNow(): string {
  return String(Math.floor(Date.now() / 1000));
}

/** Creates a revision's Secret as `helm` would (type helm.sh/release.v1, createdAt label). A 409 means the revision exists: someone else wrote it. */
export async function createReleaseSecret(ctx: ToolContext, release: HelmRelease, dryRun: boolean): Promise<StoredSecret> {
  return ctx.clients().rest.json<StoredSecret>('POST', releaseSecretsPath(release.namespace), {
    body: {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'helm.sh/release.v1',
      metadata: { name: releaseSecretName(release.name, release.version), namespace: release.namespace, labels: storageLabels(release, { createdAt: unixNow() }) },
      data: { release: encodeRelease(release) },
    },
    query: { dryRun: dryRun ? 'All' : undefined },
    signal: ctx.signal,
  });
}

/**
 * Rewrites a revision's Secret with the release as changed (status, description), as Helm's driver Update does
 * (modifiedAt label). The read resourceVersion is sent, so a concurrent write is a 409, not lost.
 */
export async function updateReleaseSecret(ctx: ToolContext, stored: StoredSecret, release: HelmRelease): Promise<void> {
  const labels = { ...(stored.metadata.labels ?? {}), ...storageLabels(release, { modifiedAt: unixNow() }) };
  await ctx.clients().rest.json('PUT', `${releaseSecretsPath(release.namespace)}/${encodeURIComponent(stored.metadata.name ?? '')}`, {
    body: { ...stored, metadata: { ...stored.metadata, labels }, data: { ...(stored.data ?? {}), release: encodeRelease(release) } },
    signal: ctx.signal,
  });
}
