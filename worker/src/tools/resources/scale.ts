import { z } from 'zod';
import { resourcePath } from '../../k8s/discovery.js';
import { ToolRefusal } from '../../k8s/errors.js';
import { apiVersionArg, clusterArg, dryRunArg, namespaceArg } from '../args.js';
import { defineTool, WRITE_MAY_DESTROY } from '../define.js';
import { namespaceFor, objectRef, resolveResource } from './common.js';

interface Scale {
  spec?: { replicas?: number };
  status?: { replicas?: number };
}

export const resourcesScale = defineTool({
  name: 'resources_scale',
  title: 'Resources: Scale',
  description:
    'Read or set the replica count of a Deployment, StatefulSet, ReplicaSet or any kind with a scale subresource. Omit replicas to only read it. Scaling to 0 stops every pod: a non-destructive cluster refuses it (other counts are allowed).',
  input: z.object({
    cluster: clusterArg,
    kind: z.string().min(1).default('Deployment').describe('Kind with a scale subresource: Deployment (default), StatefulSet, ReplicaSet, or a CRD.'),
    apiVersion: apiVersionArg,
    name: z.string().min(1).describe('Object name.'),
    namespace: namespaceArg,
    replicas: z.number().int().min(0).optional().describe('Desired replicas. Omit to read the current value.'),
    dryRun: dryRunArg,
  }),
  output: z.object({ name: z.string(), namespace: z.string().optional(), previous: z.number().int(), replicas: z.number().int(), dryRun: z.boolean() }),
  annotations: WRITE_MAY_DESTROY,
  kinds: (a) => [a.kind],
  destroys: (a) => (a.replicas === 0 && !a.dryRun ? `scales ${a.kind}/${a.name} to 0 replicas, which stops every pod` : undefined),
  async run(a, ctx) {
    const r = await resolveResource(ctx, a.kind, a.apiVersion);
    if (r.subresources.length && !r.subresources.includes('scale')) throw new ToolRefusal(`${r.kind} has no scale subresource`);
    const ns = namespaceFor(r, a.namespace);
    const path = resourcePath(r, ns, a.name, 'scale');
    const rest = ctx.clients().rest;
    const current = await rest.get<Scale>(path, { signal: ctx.signal });
    const previous = current.spec?.replicas ?? 0;
    const ref = objectRef(r, a.name, ns);
    if (a.replicas === undefined) {
      return {
        text: `${ref} has ${previous} desired replicas (${current.status?.replicas ?? 0} current)`,
        structured: { name: a.name, ...(ns ? { namespace: ns } : {}), previous, replicas: previous, dryRun: a.dryRun },
      };
    }
    const updated = await rest.json<Scale>('PATCH', path, {
      body: { spec: { replicas: a.replicas } },
      contentType: 'application/merge-patch+json',
      query: { dryRun: a.dryRun ? 'All' : undefined },
      signal: ctx.signal,
    });
    const replicas = updated.spec?.replicas ?? a.replicas;
    return {
      text: `${ref} scaled from ${previous} to ${replicas}${a.dryRun ? ' (dry run, nothing changed)' : ''}`,
      structured: { name: a.name, ...(ns ? { namespace: ns } : {}), previous, replicas, dryRun: a.dryRun },
    };
  },
});
