import { z } from 'zod';
import { clusterArg, continueArg, formatArg, labelSelectorArg, limitArg } from '../args.js';
import { defineTool, READ } from '../define.js';
import { listOutputSchema, listResource, NAMESPACES } from '../resources/common.js';

export const namespacesList = defineTool({
  name: 'namespaces_list',
  title: 'Namespaces: List',
  description: 'List the namespaces you can see, with status and age.',
  input: z.object({ cluster: clusterArg, labelSelector: labelSelectorArg, limit: limitArg, continue: continueArg, format: formatArg }),
  output: listOutputSchema,
  annotations: READ,
  kinds: () => ['Namespace'],
  run: (a, ctx) => listResource(ctx, NAMESPACES, { ...a, format: a.format ?? 'summary' }),
});
