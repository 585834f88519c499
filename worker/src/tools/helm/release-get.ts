import { z } from 'zod';
import { ToolRefusal } from '../../k8s/errors.js';
import { clusterArg, namespaceArg } from '../args.js';
import { defineTool, READ } from '../define.js';
import { collectManifestSecrets, maskHelmValues, maskKnownValues, maskManifest } from './mask-values.js';
import { fetchRelease, listReleaseMetas } from './release.js';

export const helmReleaseGet = defineTool({
  name: 'helm_release_get',
  title: 'Helm: Get Release',
  description:
    'One Helm release decoded from its release secret: status, chart, revision, and the user-supplied values. Values under sensitive-looking keys (also inside arrays), Secrets in the manifest, and those values wherever NOTES or the manifest repeat them are masked. Optionally the rendered manifest, notes and chart default values.',
  input: z.object({
    cluster: clusterArg,
    name: z.string().min(1).describe('Release name.'),
    namespace: namespaceArg,
    revision: z.number().int().min(1).optional().describe('Revision; default the latest.'),
    show: z
      .array(z.enum(['values', 'manifest', 'notes', 'chartValues']))
      .default(['values'])
      .describe('What to include besides the summary: "values" (user-supplied, default), "manifest", "notes", "chartValues" (chart defaults).'),
  }),
  annotations: READ,
  kinds: () => ['Secret'],
  async run(a, ctx) {
    const ns = a.namespace ?? 'default';
    const { metas } = await listReleaseMetas(ctx, ns, { name: a.name, cap: 5000 });
    const revisions = metas.map((m) => m.version).sort((x, y) => x - y);
    const pick = a.revision ? metas.find((m) => m.version === a.revision) : metas.sort((x, y) => y.version - x.version)[0];
    if (!pick) throw new ToolRefusal(`NotFound: no Helm release ${a.name}${a.revision ? ` revision ${a.revision}` : ''} in namespace ${ns}${revisions.length ? ` (revisions: ${revisions.join(', ')})` : '; helm_releases_list with all=true lists the releases there'}`);
    const r = await fetchRelease(ctx, ns, pick.secret);
    // Mask every values tree first: what it hides is then masked in NOTES and the manifest too.
    const values = maskHelmValues(r.config ?? {});
    const chartValues = maskHelmValues(r.chart?.values ?? {}, values.hidden);
    const hidden = collectManifestSecrets(r.manifest ?? '', chartValues.hidden);
    const out: Record<string, unknown> = {
      name: r.name,
      namespace: r.namespace,
      revision: r.version,
      status: r.info?.status,
      chart: r.chart?.metadata?.name,
      chartVersion: r.chart?.metadata?.version,
      appVersion: r.chart?.metadata?.appVersion,
      lastDeployed: r.info?.last_deployed,
      description: r.info?.description === undefined ? undefined : maskKnownValues(r.info.description, hidden),
      revisions,
    };
    if (a.show.includes('values')) out.values = values.masked;
    if (a.show.includes('chartValues')) out.chartValues = chartValues.masked;
    if (a.show.includes('notes')) out.notes = maskKnownValues(r.info?.notes ?? '', hidden);
    if (a.show.includes('manifest')) out.manifest = maskManifest(r.manifest ?? '', hidden);
    return { data: out };
  },
});
