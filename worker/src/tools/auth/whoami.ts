import { z } from 'zod';
import { clusterArg } from '../args.js';
import { defineTool, READ } from '../define.js';

interface SelfSubjectReview {
  status?: { userInfo?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> } };
}

export const whoami = defineTool({
  name: 'whoami',
  title: 'Auth: Who Am I',
  description: 'Who the cluster thinks you are (SelfSubjectReview): username and groups, as RBAC sees them.',
  input: z.object({ cluster: clusterArg }),
  output: z.object({ username: z.string(), groups: z.array(z.string()) }),
  annotations: READ,
  async run(_a, ctx) {
    const review = await ctx.clients().rest.json<SelfSubjectReview>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      signal: ctx.signal,
    });
    const username = review.status?.userInfo?.username ?? '';
    const groups = review.status?.userInfo?.groups ?? [];
    return { text: `username: ${username}\ngroups: ${groups.join(', ')}\ncluster: ${ctx.cluster.name}`, structured: { username, groups } };
  },
});
