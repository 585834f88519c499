import { z } from 'zod';
import { slimObject } from '../../output/format.js';
import { formatArg, objectRefArgs } from '../args.js';
import { defineTool, READ } from '../define.js';
import { getObject, resolveResource } from './common.js';

export const resourcesGet = defineTool({
  name: 'resources_get',
  title: 'Resources: Get',
  description:
    'Get one object of any kind as YAML. Secret values are always shown as *** (keys kept) unless the cluster policy reveals that one Secret.',
  input: z.object({
    ...objectRefArgs,
    format: formatArg,
  }),
  annotations: READ,
  kinds: (a) => [a.kind],
  async run(a, ctx) {
    const r = await resolveResource(ctx, a.kind, a.apiVersion);
    const obj = await getObject(ctx, r, a.name, a.namespace);
    const reveal = ctx.policy.revealSecrets;
    return {
      data: slimObject(obj, a.format ?? 'normal'),
      reveal: (ns, name) => r.kind === 'Secret' && r.group === '' && reveal.includes(`${ns}/${name}`),
    };
  },
});

