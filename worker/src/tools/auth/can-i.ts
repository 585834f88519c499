import { z } from 'zod';
import { clusterArg } from '../args.js';
import { defineTool, READ } from '../define.js';
import { selfAccessReview } from '../pods/access-check.js';

export const canI = defineTool({
  name: 'can_i',
  title: 'Auth: Can I',
  description: 'Ask the cluster whether you may do something (SelfSubjectAccessReview), e.g. verb "delete", resource "pods", namespace "team-a".',
  input: z.object({
    cluster: clusterArg,
    verb: z.string().min(1).describe('get, list, watch, create, update, patch, delete, or a custom verb.'),
    resource: z.string().min(1).describe('Plural resource name, e.g. "pods", "deployments", "secrets".'),
    group: z.string().optional().describe('API group, e.g. "apps"; omit for the core group.'),
    subresource: z.string().optional().describe('Subresource, e.g. "log", "exec", "scale".'),
    namespace: z.string().optional().describe('Namespace; omit for all namespaces / cluster scope.'),
    name: z.string().optional().describe('A single object name.'),
  }),
  output: z.object({ allowed: z.boolean(), reason: z.string() }),
  annotations: READ,
  async run(a, ctx) {
    const { cluster: _c, ...attrs } = a;
    const result = await selfAccessReview(ctx, attrs);
    const what = `${a.verb} ${a.group ? `${a.resource}.${a.group}` : a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.name ? ` ${a.name}` : ''}${a.namespace ? ` in namespace ${a.namespace}` : ''}`;
    return { text: `${result.allowed ? 'yes' : 'no'}: you ${result.allowed ? 'may' : 'may not'} ${what}${result.reason ? ` (${result.reason})` : ''}`, structured: result };
  },
});
