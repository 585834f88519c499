import { z } from 'zod';
import { clusterArg, listPageArgs } from '../args.js';
import { defineTool, READ } from '../define.js';
import { listOutputSchema, listResource, NODES } from '../resources/common.js';
import { listViewArgs } from '../resources/list-view.js';

export const nodesList = defineTool({
  name: 'nodes_list',
  title: 'Nodes: List',
  description: 'List nodes with status, roles, age and version (summary), or as YAML. `wide` adds internal/external IP, OS image, kernel and container runtime; `showLabels` the labels; `fields` picks columns (".status.allocatable.memory").',
  input: z.object({
    cluster: clusterArg,
    ...listPageArgs,
    ...listViewArgs,
  }),
  output: listOutputSchema,
  annotations: READ,
  kinds: () => ['Node'],
  run: (a, ctx) => listResource(ctx, NODES, { ...a, format: a.format ?? 'summary' }),
});
