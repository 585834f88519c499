import { z } from 'zod';
import { clusterArg, listPageArgs } from '../args.js';
import { defineTool, READ } from '../define.js';
import { listOutputSchema, listResource, NODES } from '../resources/common.js';

export const nodesList = defineTool({
  name: 'nodes_list',
  title: 'Nodes: List',
  description: 'List nodes with status, roles, age and version (summary), or as YAML.',
  input: z.object({
    cluster: clusterArg,
    ...listPageArgs,
  }),
  output: listOutputSchema,
  annotations: READ,
  kinds: () => ['Node'],
  run: (a, ctx) => listResource(ctx, NODES, { ...a, format: a.format ?? 'summary' }),
});
