import { z } from 'zod';
import { clusterArg, dryRunArg, nameArg, namespaceArg } from '../args.js';
import { defineTool, DESTRUCTIVE } from '../define.js';
import { PODS } from '../resources/common.js';
import { deleteArgs, deleteObject, deleteOutput } from '../resources/delete.js';

export const podsDelete = defineTool({
  name: 'pods_delete',
  title: 'Pods: Delete',
  description: 'Delete one pod (a controller such as a Deployment will replace it). Use dryRun to check permission first.',
  input: z.object({ cluster: clusterArg, name: nameArg, namespace: namespaceArg, gracePeriodSeconds: deleteArgs.gracePeriodSeconds, wait: deleteArgs.wait, dryRun: dryRunArg }),
  output: deleteOutput,
  annotations: DESTRUCTIVE,
  kinds: () => ['Pod'],
  run: (a, ctx) => deleteObject(ctx, PODS, a),
});
