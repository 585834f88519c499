import { z } from 'zod';
import { KubeApiError, ToolRefusal } from '../../k8s/errors.js';
import { renderColumnLines } from '../../output/format.js';
import { clusterArg, namespaceArg } from '../args.js';
import { defineTool, READ } from '../define.js';
import { listOutputSchema } from '../resources/common.js';
import { collectManifestSecrets, maskHelmValues, maskKnownValues } from './mask-values.js';
import { mapLimit } from '../map-limit.js';
import { fetchRelease, listReleaseMetas, RELEASE_DECODE_CONCURRENCY, type ReleaseMeta } from './release.js';

/** Revision Secrets of one release read as metadata; far above helm's own default history size. */
const METADATA_CAP = 5_000;

export interface HistoryRow {
  revision: string;
  updated: string;
  status: string;
  chart: string;
  appVersion: string;
  description: string;
}

/** The sensitive values of one revision: under sensitive keys of its values, and its manifest's Secret data. */
function hiddenValues(r: Awaited<ReturnType<typeof fetchRelease>>): Set<string> {
  const hidden = new Set<string>();
  maskHelmValues(r.config ?? {}, hidden);
  maskHelmValues(r.chart?.values ?? {}, hidden);
  return collectManifestSecrets(r.manifest ?? '', hidden);
}

/** The columns `helm history` prints that the labels do not hold, from the decoded release; an unreadable one says why. */
async function decodeRow(ctx: Parameters<typeof fetchRelease>[0], ns: string, m: ReleaseMeta): Promise<HistoryRow> {
  const base = { revision: String(m.version), status: m.status, updated: m.modifiedAt ? new Date(m.modifiedAt * 1000).toISOString() : '' };
  try {
    const r = await fetchRelease(ctx, ns, m.secret);
    const meta = r.chart?.metadata;
    return {
      ...base,
      updated: r.info?.last_deployed ?? base.updated,
      chart: meta?.name ? `${meta.name}-${meta.version ?? ''}` : '',
      appVersion: meta?.appVersion ?? '',
      // Helm writes descriptions like "Upgrade complete" or an error message; a failed hook's text may quote anything,
      // so every value this revision's values and Secrets hide is masked in it, as in helm_release_get.
      description: maskKnownValues(r.info?.description ?? '', hiddenValues(r)),
    };
  } catch (err) {
    if (err instanceof ToolRefusal) return { ...base, chart: '', appVersion: '', description: `<${err.message}>` };
    if (err instanceof KubeApiError && err.status !== 401) return { ...base, chart: '', appVersion: '', description: `<${err.reason}>` };
    throw err;
  }
}

/** A release's revisions, oldest first (like helm history), from its Secrets' labels; at most `max` newest are decoded. */
export async function releaseHistory(ctx: Parameters<typeof fetchRelease>[0], ns: string, name: string, max: number): Promise<{ rows: HistoryRow[]; total: number }> {
  const { metas } = await listReleaseMetas(ctx, ns, { name, cap: METADATA_CAP });
  const shown = metas.sort((x, y) => x.version - y.version).slice(-max);
  const rows = await mapLimit(shown, RELEASE_DECODE_CONCURRENCY, (m) => decodeRow(ctx, ns, m));
  return { rows, total: metas.length };
}

export const helmHistory = defineTool({
  name: 'helm_history',
  title: 'Helm: History',
  description:
    "The revisions of one Helm release, like `helm history`: revision, updated, status, chart, app version and description, oldest first. Revisions are found from the release Secrets' labels; only the newest `max` are decoded for chart and description. Values are never shown (helm_release_get shows them masked). Roll back with helm_rollback.",
  input: z.object({
    cluster: clusterArg,
    name: z.string().min(1).describe('Release name (helm_releases_list shows them).'),
    namespace: namespaceArg.describe('Namespace of the release (default "default").'),
    max: z.number().int().min(1).max(256).default(20).describe('Show at most this many of the newest revisions (helm history --max). Default 20.'),
  }),
  output: listOutputSchema.extend({ release: z.string(), namespace: z.string(), revisions: z.number().int().describe('Revisions the release has, before max.') }),
  annotations: READ,
  kinds: () => ['Secret'],
  async run(a, ctx) {
    const ns = a.namespace ?? 'default';
    const { rows, total } = await releaseHistory(ctx, ns, a.name, a.max);
    if (!total) throw new ToolRefusal(`NotFound: no Helm release ${a.name} in namespace ${ns} of cluster ${ctx.cluster.name}; helm_releases_list with all=true (and no namespace) lists the releases you can see`);
    const cells = rows.map((r) => [r.revision, r.updated, r.status, r.chart, r.appVersion, r.description]);
    const { columns, lines } = renderColumnLines(['REVISION', 'UPDATED', 'STATUS', 'CHART', 'APP VERSION', 'DESCRIPTION'], cells);
    return {
      list: {
        header: (k, cut) => `# ${k}${cut ? ' (cut by the byte budget)' : ''} of ${total} revisions of Helm release ${ns}/${a.name}, oldest first${total > rows.length ? `; raise max for the ${total - rows.length} older ones` : ''}\n`,
        columns,
        lines,
        rows: rows.map((r) => ({ ...r })),
        structured: { kind: 'HelmRevision', release: a.name, namespace: ns, revisions: total },
        noun: 'revisions',
      },
    };
  },
});
