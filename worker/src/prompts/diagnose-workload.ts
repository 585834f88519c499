import { callArgs, clusterArgument, kindArg, nameArg, namespaceArg, type PromptDef } from './define.js';

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod'] as const;

export const diagnoseWorkload: PromptDef = {
  name: 'diagnose_workload',
  title: 'Diagnose a workload',
  description: 'Find out why a Deployment, StatefulSet, DaemonSet, Job or Pod is not working: container states, crash causes, events and the crashed container\'s log. Read-only.',
  arguments: [
    { name: 'name', description: 'Name of the workload (metadata.name).', required: true, schema: nameArg },
    { name: 'namespace', description: 'Namespace of the workload (default "default").', required: false, schema: namespaceArg },
    { name: 'kind', description: `Kind of the workload: ${WORKLOAD_KINDS.join(', ')} (default Deployment).`, required: false, schema: kindArg(WORKLOAD_KINDS) },
    clusterArgument,
  ],
  tools: ['workload_diagnose', 'pods_log', 'events_list'],
  render(a) {
    const kind = a.kind ?? 'Deployment';
    const namespace = a.namespace ?? 'default';
    return {
      task: `Find out why ${kind} ${a.name} in namespace ${namespace}${a.cluster ? ` on cluster ${a.cluster}` : ''} is not working.`,
      steps: [
        {
          tool: 'workload_diagnose',
          args: callArgs(a, { kind, name: a.name, namespace }),
          why: 'One call: per-container state and last state (reason, exit code, OOMKilled), restarts and back-off, probe failures and image-pull errors from events, the previous log tail filtered for errors; for Deployments generation vs observedGeneration, conditions, ReplicaSets, HPA, PDB and quota.',
        },
        {
          tool: 'pods_log',
          args: callArgs(a, { name: '<pod>', namespace, container: '<container>', previous: true, tail: 200, grep: 'panic|fatal|error|exception', ignoreCase: true }),
          why: 'Only if the diagnosis names a crashing container but its log tail does not show why.',
        },
        {
          tool: 'events_list',
          args: callArgs(a, { namespace, objectName: a.name, since: '1h' }),
          why: 'Only if scheduling, quota or admission is involved and the diagnosis did not quote the event.',
        },
      ],
      answer: 'Answer with the root cause and its evidence (quote the state, event or log line), the impact, and a fix the user can review (a manifest change or a command). Do not apply the fix.',
    };
  },
};
