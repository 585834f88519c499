import { z } from 'zod';
import { clusterArg, namespaceArg, listPageArgs } from '../args.js';
import { defineTool, READ } from '../define.js';
import { listOutputSchema, listResource, PODS } from '../resources/common.js';
import { listViewArgs } from '../resources/list-view.js';
import { assertPlainContinue, listUnhealthyPods, SCAN_CAP } from './unhealthy.js';

export const podsList = defineTool({
  name: 'pods_list',
  title: 'Pods: List',
  description:
    'List pods in a namespace or all namespaces: name, ready, status, restarts, age (summary, default), or YAML. Filter by labels or fields (e.g. status.phase=Running, spec.nodeName=x). `unhealthy: true` keeps only pods with a problem (CrashLoopBackOff, ImagePullBackOff and other waiting reasons, not Ready, failed, stuck Pending, recent restarts) and says why in a PROBLEM column. `wide` adds IP and node, `showLabels` the labels, `fields` picks columns (".spec.containers[*].image"). Pages with continue.',
  input: z.object({
    cluster: clusterArg,
    namespace: namespaceArg,
    ...listPageArgs,
    ...listViewArgs,
    unhealthy: z
      .boolean()
      .default(false)
      .describe(`Only pods with a problem, each with a PROBLEM column. Reads up to ${SCAN_CAP} pods per call to find up to \`limit\` of them; the result says how many pods were read and carries a continue token when more remain.`),
  }),
  output: listOutputSchema.extend({ podsRead: z.number().int().optional().describe('With unhealthy: how many pods this call went through to find the rows.') }),
  annotations: READ,
  kinds: () => ['Pod'],
  run: (a, ctx) => {
    const format = a.format ?? 'summary';
    if (a.unhealthy) return listUnhealthyPods(ctx, { ...a, format });
    assertPlainContinue(a.continue);
    return listResource(ctx, PODS, { ...a, format });
  },
});
