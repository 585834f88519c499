import { z } from 'zod';
import { slimObject } from '../../output/format.js';
import { clusterArg, formatArg, nameArg, namespaceArg } from '../args.js';
import { defineTool, READ } from '../define.js';
import { getObject, PODS } from '../resources/common.js';

export const podsGet = defineTool({
  name: 'pods_get',
  title: 'Pods: Get',
  description: 'Get one pod as YAML (normal detail strips managedFields and last-applied annotations).',
  input: z.object({ cluster: clusterArg, name: nameArg, namespace: namespaceArg, format: formatArg }),
  annotations: READ,
  kinds: () => ['Pod'],
  async run(a, ctx) {
    return { data: slimObject(await getObject(ctx, PODS, a.name, a.namespace), a.format ?? 'normal') };
  },
});
