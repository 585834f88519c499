import { z } from 'zod';
import { ToolRefusal } from '../../k8s/errors.js';
import { maskSensitiveValues, maskYamlManifest } from '../../output/mask.js';
import { clusterArg, namespaceArg } from '../args.js';
import { defineTool, READ } from '../define.js';
import { decodeRelease, releaseSecretsPath, type HelmSecret } from './release.js';

export const helmReleaseGet = defineTool({
  name: 'helm_release_get',
  title: 'Helm: Get Release',
  description:
    'One Helm release decoded from its release secret: status, chart, revision, and the user-supplied values (sensitive-looking values and Secrets masked). Optionally the rendered manifest, notes and chart default values.',
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
    const list = await ctx.clients().rest.get<{ items?: HelmSecret[] }>(releaseSecretsPath(ns), {
      query: { labelSelector: `owner=helm,name=${a.name}${a.revision ? `,version=${a.revision}` : ''}` },
      signal: ctx.signal,
    });
    const items = (list.items ?? []).sort((x, y) => Number(y.metadata?.labels?.version) - Number(x.metadata?.labels?.version));
    if (!items.length) throw new ToolRefusal(`NotFound: no Helm release ${a.name}${a.revision ? ` revision ${a.revision}` : ''} in namespace ${ns}`);
    const r = decodeRelease(items[0]!);
    const out: Record<string, unknown> = {
      name: r.name,
      namespace: r.namespace,
      revision: r.version,
      status: r.info?.status,
      chart: r.chart?.metadata?.name,
      chartVersion: r.chart?.metadata?.version,
      appVersion: r.chart?.metadata?.appVersion,
      lastDeployed: r.info?.last_deployed,
      description: r.info?.description,
      revisions: items.map((s) => Number(s.metadata?.labels?.version)).sort((x, y) => x - y),
    };
    if (a.show.includes('values')) out.values = maskSensitiveValues(r.config ?? {});
    if (a.show.includes('chartValues')) out.chartValues = maskSensitiveValues(r.chart?.values ?? {});
    if (a.show.includes('notes')) out.notes = r.info?.notes ?? '';
    if (a.show.includes('manifest')) out.manifest = maskYamlManifest(r.manifest ?? '');
    return { data: out };
  },
});
