import { builtin, PODS } from '../resources/common.js';

export const REPLICASETS = builtin('apps', 'v1', 'replicasets', 'ReplicaSet', true);

/** The workload kinds the workload_* tools address by kind and name. */
export const WORKLOAD_KINDS = {
  Pod: PODS,
  Deployment: builtin('apps', 'v1', 'deployments', 'Deployment', true),
  StatefulSet: builtin('apps', 'v1', 'statefulsets', 'StatefulSet', true),
  DaemonSet: builtin('apps', 'v1', 'daemonsets', 'DaemonSet', true),
  Job: builtin('batch', 'v1', 'jobs', 'Job', true),
  ReplicaSet: REPLICASETS,
} as const;
