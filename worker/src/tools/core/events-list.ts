import { z } from 'zod';
import { clusterArg, continueArg, formatArg, limitArg, namespaceArg } from '../args.js';
import { defineTool, READ } from '../define.js';
import { EVENTS, listOutputSchema, listResource } from '../resources/common.js';

export const eventsList = defineTool({
  name: 'events_list',
  title: 'Events: List',
  description:
    'List events, optionally only those about one object (kind and/or name) or of one type (Warning or Normal), in one namespace or all.',
  input: z.object({
    cluster: clusterArg,
    namespace: namespaceArg,
    type: z.enum(['Normal', 'Warning']).optional().describe('Only events of this type.'),
    objectKind: z.string().optional().describe('Only events about objects of this kind, e.g. "Pod".'),
    objectName: z.string().optional().describe('Only events about the object with this name.'),
    limit: limitArg,
    continue: continueArg,
    format: formatArg,
  }),
  output: listOutputSchema,
  annotations: READ,
  kinds: () => ['Event'],
  run(a, ctx) {
    const selectors = [
      a.type ? `type=${a.type}` : '',
      a.objectKind ? `involvedObject.kind=${a.objectKind}` : '',
      a.objectName ? `involvedObject.name=${a.objectName}` : '',
    ].filter(Boolean);
    return listResource(ctx, EVENTS, {
      namespace: a.namespace,
      fieldSelector: selectors.join(',') || undefined,
      limit: a.limit,
      continue: a.continue,
      format: a.format ?? 'summary',
    });
  },
});
