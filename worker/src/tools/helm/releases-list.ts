import { z } from 'zod';
import { age, renderColumns } from '../../output/format.js';
import { clusterArg, namespaceArg } from '../args.js';
import { defineTool, READ } from '../define.js';
import { decodeRelease, releaseSecretsPath, type HelmSecret } from './release.js';

export const helmReleasesList = defineTool({
  name: 'helm_releases_list',
  title: 'Helm: List Releases',
  description: 'List Helm releases (latest revision of each) in a namespace or all namespaces: name, namespace, revision, status, chart, app version, updated. Read from Helm release secrets.',
  input: z.object({
    cluster: clusterArg,
    namespace: namespaceArg,
    all: z.boolean().default(false).describe('Include uninstalled/superseded/failed releases, not only deployed ones.'),
  }),
  annotations: READ,
  kinds: () => ['Secret'],
  async run(a, ctx) {
    const list = await ctx.clients().rest.get<{ items?: HelmSecret[] }>(releaseSecretsPath(a.namespace), {
      query: { labelSelector: 'owner=helm', limit: 1000 },
      signal: ctx.signal,
    });
    const latest = new Map<string, HelmSecret>();
    for (const s of list.items ?? []) {
      const l = s.metadata?.labels ?? {};
      const key = `${s.metadata?.namespace}/${l.name}`;
      const prev = latest.get(key);
      if (!prev || Number(l.version) > Number(prev.metadata?.labels?.version)) latest.set(key, s);
    }
    const rows: string[][] = [];
    for (const s of latest.values()) {
      const l = s.metadata?.labels ?? {};
      if (!a.all && l.status !== 'deployed') continue;
      let chart = '';
      let appVersion = '';
      let updated = '';
      try {
        const r = decodeRelease(s);
        chart = `${r.chart?.metadata?.name ?? ''}-${r.chart?.metadata?.version ?? ''}`;
        appVersion = r.chart?.metadata?.appVersion ?? '';
        updated = age(r.info?.last_deployed);
      } catch {
        chart = '<undecodable>';
      }
      rows.push([l.name ?? '', s.metadata?.namespace ?? '', l.version ?? '', l.status ?? '', chart, appVersion, updated]);
    }
    rows.sort((x, y) => x[1]!.localeCompare(y[1]!) || x[0]!.localeCompare(y[0]!));
    return { text: rows.length ? renderColumns(['NAME', 'NAMESPACE', 'REVISION', 'STATUS', 'CHART', 'APP VERSION', 'UPDATED'], rows) : 'No Helm releases found.' };
  },
});
