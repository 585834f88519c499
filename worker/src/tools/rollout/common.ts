import { z } from 'zod';

export const rolloutKindArg = z
  .enum(['Deployment', 'StatefulSet', 'DaemonSet'])
  .default('Deployment')
  .describe('Workload kind: Deployment (default), StatefulSet or DaemonSet.');

export const ROLLOUT_RESOURCES = {
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true },
  StatefulSet: { group: 'apps', version: 'v1', resource: 'statefulsets', kind: 'StatefulSet', namespaced: true },
  DaemonSet: { group: 'apps', version: 'v1', resource: 'daemonsets', kind: 'DaemonSet', namespaced: true },
} as const;
