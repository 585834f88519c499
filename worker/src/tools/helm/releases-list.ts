import { z } from 'zod';
import { KubeApiError, ToolRefusal } from '../../k8s/errors.js';
import { age, renderColumnLines } from '../../output/format.js';
import { clusterArg, namespaceArg } from '../args.js';
import { defineTool, READ } from '../define.js';
import { listOutputSchema } from '../resources/common.js';
import { mapLimit } from '../map-limit.js';
import { fetchRelease, latestRevisions, listReleaseMetas, RELEASE_DECODE_CONCURRENCY, type ReleaseMeta } from './release.js';

/** `helm list` without flags: deployed and failed releases, and those mid-operation. */
export const DEFAULT_STATUSES = ['deployed', 'failed', 'pending-install', 'pending-upgrade', 'pending-rollback'];
const STATUSES = ['deployed', 'failed', 'pending-install', 'pending-upgrade', 'pending-rollback', 'superseded', 'uninstalling', 'uninstalled', 'unknown'] as const;
const METADATA_CAP = 20_000;

export const helmReleasesList = defineTool({
  name: 'helm_releases_list',
  title: 'Helm: List Releases',
  description:
    'List Helm releases like `helm list`: the latest revision of each, by default those deployed, failed or pending (install/upgrade/rollback). Reads only the release Secrets\' labels to list, then decodes just the latest revision of each release shown for chart and app version.',
  input: z.object({
    cluster: clusterArg,
    namespace: namespaceArg,
    statuses: z.array(z.enum(STATUSES)).optional().describe(`Only releases whose latest revision has one of these statuses. Default: ${DEFAULT_STATUSES.join(', ')} (helm list's default).`),
    all: z.boolean().default(false).describe('Every status (like helm list --all), including uninstalled (kept history) and uninstalling.'),
    limit: z.number().int().min(1).max(500).default(100).describe('Show at most this many releases (each shown one is decoded). Default 100.'),
  }),
  output: listOutputSchema.extend({ releases: z.number().int().describe('Releases matching the statuses, before limit.'), readAll: z.boolean() }),
  annotations: READ,
  kinds: () => ['Secret'],
  async run(a, ctx) {
    const { metas, complete } = await listReleaseMetas(ctx, a.namespace, { cap: METADATA_CAP });
    const wanted = new Set<string>(a.all ? STATUSES : (a.statuses ?? DEFAULT_STATUSES));
    const matching = latestRevisions(metas)
      .filter((m) => wanted.has(m.status))
      .sort((x, y) => x.namespace.localeCompare(y.namespace) || x.name.localeCompare(y.name));
    const shown = matching.slice(0, a.limit);
    const decoded = await mapLimit(shown, RELEASE_DECODE_CONCURRENCY, async (m: ReleaseMeta) => {
      try {
        const r = await fetchRelease(ctx, m.namespace, m.secret);
        return { chart: `${r.chart?.metadata?.name ?? ''}-${r.chart?.metadata?.version ?? ''}`, appVersion: r.chart?.metadata?.appVersion ?? '', updated: r.info?.last_deployed ?? '' };
      } catch (err) {
        // One unreadable release does not hide the others; it says why in its row.
        if (err instanceof ToolRefusal) return { chart: `<${err.message}>`, appVersion: '', updated: '' };
        if (err instanceof KubeApiError && err.status !== 401) return { chart: `<${err.reason}>`, appVersion: '', updated: '' };
        throw err;
      }
    });
    const now = Date.now();
    const headers = ['NAME', 'NAMESPACE', 'REVISION', 'STATUS', 'CHART', 'APP VERSION', 'UPDATED'];
    const cells = shown.map((m, i) => {
      const d = decoded[i]!;
      const updated = d.updated || (m.modifiedAt ? new Date(m.modifiedAt * 1000).toISOString() : '');
      return [m.name, m.namespace, String(m.version), m.status, d.chart, d.appVersion, updated ? age(updated, now) : ''];
    });
    const { columns, lines } = renderColumnLines(headers, cells);
    const rows = shown.map((m, i) => ({ name: m.name, namespace: m.namespace, revision: String(m.version), status: m.status, chart: decoded[i]!.chart, appVersion: decoded[i]!.appVersion, updated: decoded[i]!.updated }));
    const statusNote = a.all ? 'any status' : `status ${[...wanted].join(', ')}`;
    return {
      list: {
        header: (k, cut) =>
          shown.length
            ? `# ${k}${cut ? ' (cut by the byte budget)' : ''} of ${matching.length} Helm releases with ${statusNote}${matching.length > shown.length && !cut ? `; raise limit for the other ${matching.length - shown.length}` : ''}${complete ? '' : `; only the first ${METADATA_CAP} release secrets were read`}\n`
            : `No Helm releases with ${statusNote}${a.namespace ? ` in namespace ${a.namespace}` : ''}.${a.all ? '' : ' Pass all=true to include every status.'}`,
        ...(shown.length ? { columns } : {}),
        lines,
        rows,
        structured: { kind: 'HelmRelease', releases: matching.length, readAll: complete },
        noun: 'releases',
      },
    };
  },
});
