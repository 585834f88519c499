import { z } from 'zod';
import { clusterArg, namespaceArg, listPageArgs } from '../args.js';
import { defineTool, READ } from '../define.js';
import { listOutputSchema, listResource, PODS } from '../resources/common.js';

export const podsList = defineTool({
  name: 'pods_list',
  title: 'Pods: List',
  description:
    'List pods in a namespace or all namespaces: name, ready, status, restarts, age (summary, default), or YAML. Filter by labels or fields (e.g. status.phase=Running, spec.nodeName=x). Pages with continue.',
  input: z.object({
    cluster: clusterArg,
    namespace: namespaceArg,
    ...listPageArgs,
  }),
  output: listOutputSchema,
  annotations: READ,
  kinds: () => ['Pod'],
  run: (a, ctx) => listResource(ctx, PODS, { ...a, format: a.format ?? 'summary' }),
});
