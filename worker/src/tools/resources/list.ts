import { z } from 'zod';
import { apiVersionArg, clusterArg, kindArg, namespaceArg, listPageArgs } from '../args.js';
import { defineTool, READ } from '../define.js';
import { listOutputSchema, listResource, resolveResource } from './common.js';
import { listViewArgs } from './list-view.js';

export const resourcesList = defineTool({
  name: 'resources_list',
  title: 'Resources: List',
  description:
    'List objects of any kind (built-in or CRD), one page at a time. Default format "summary" shows kubectl-get columns (`wide` adds the -o wide ones, `showLabels` the labels, `fields` picks columns by path, e.g. ".spec.template.spec.containers[*].image"); use "normal" for YAML. Results carry a continue token when more exist.',
  input: z.object({
    cluster: clusterArg,
    kind: kindArg,
    apiVersion: apiVersionArg,
    namespace: namespaceArg,
    ...listPageArgs,
    ...listViewArgs,
  }),
  output: listOutputSchema,
  annotations: READ,
  kinds: (a) => [a.kind],
  async run(a, ctx) {
    const r = await resolveResource(ctx, a.kind, a.apiVersion);
    return listResource(ctx, r, { ...a, format: a.format ?? 'summary' });
  },
});
