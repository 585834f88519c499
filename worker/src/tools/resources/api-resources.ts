import { z } from 'zod';
import { apiVersionOf } from '../../k8s/discovery.js';
import { rowObjects, renderColumns } from '../../output/format.js';
import { clusterArg } from '../args.js';
import { defineTool, READ } from '../define.js';
import { rowSchema } from './common.js';

const HEADERS = ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND', 'VERBS'];

export const apiResourcesList = defineTool({
  name: 'api_resources_list',
  title: 'API Resources: List',
  description:
    'List the resource types the cluster serves (like kubectl api-resources), CRDs included: name, short names, API version, namespaced, kind, verbs. Filter by group or verb.',
  input: z.object({
    cluster: clusterArg,
    group: z.string().optional().describe('Only this API group ("" or "core" for the core group, e.g. "apps").'),
    namespaced: z.boolean().optional().describe('Only namespaced (true) or only cluster-scoped (false) resources.'),
    verb: z.string().optional().describe('Only resources supporting this verb, e.g. "list" or "delete".'),
  }),
  output: z.object({
    count: z.number().int().describe('Resource types listed.'),
    rows: z.array(rowSchema).describe('One row per resource type, the columns the text shows: name, shortnames, apiversion, namespaced, kind, verbs.'),
  }),
  annotations: READ,
  async run(a, ctx) {
    const all = await ctx.discovery.resources(ctx.clients().rest);
    const group = a.group === 'core' ? '' : a.group;
    const rows = all
      .filter((r) => r.preferred)
      .filter((r) => group === undefined || r.group === group)
      .filter((r) => a.namespaced === undefined || r.namespaced === a.namespaced)
      .filter((r) => !a.verb || r.verbs.includes(a.verb))
      .sort((x, y) => x.group.localeCompare(y.group) || x.resource.localeCompare(y.resource))
      .map((r) => [r.resource, r.shortNames.join(','), apiVersionOf(r), String(r.namespaced), r.kind, r.verbs.join(',')]);
    return { text: renderColumns(HEADERS, rows), structured: { count: rows.length, rows: rowObjects(HEADERS, rows) } };
  },
});
