import { callArgs, clusterArgument, kindArg, nameArg, namespaceArg, type PromptDef } from './define.js';

export const ROLLOUT_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;

export const reviewRollout: PromptDef = {
  name: 'review_rollout',
  title: 'Review a rollout',
  description: 'Review a Deployment, StatefulSet or DaemonSet rollout: progress, what changed between revisions, why it is stuck, and a rollback rehearsed as a dry run.',
  arguments: [
    { name: 'name', description: 'Name of the workload (metadata.name).', required: true, schema: nameArg },
    { name: 'namespace', description: 'Namespace of the workload (default "default").', required: false, schema: namespaceArg },
    { name: 'kind', description: `Kind of the workload: ${ROLLOUT_KINDS.join(', ')} (default Deployment).`, required: false, schema: kindArg(ROLLOUT_KINDS) },
    clusterArgument,
  ],
  tools: ['rollout_status', 'rollout_history', 'workload_diagnose', 'rollout_undo'],
  render(a) {
    const kind = a.kind ?? 'Deployment';
    const namespace = a.namespace ?? 'default';
    const target = callArgs(a, { kind, name: a.name, namespace });
    return {
      task: `Review the rollout of ${kind} ${a.name} in namespace ${namespace}${a.cluster ? ` on cluster ${a.cluster}` : ''}: is it done, stuck or failing, what changed, and should it be rolled back?`,
      steps: [
        { tool: 'rollout_status', args: target, why: 'Progress: updated, ready and available replicas, and whether the rollout is stuck (ProgressDeadlineExceeded) or waiting.' },
        { tool: 'rollout_history', args: target, why: 'The revisions with their images and change-cause: compare the current revision with the previous one.' },
        { tool: 'workload_diagnose', args: target, why: 'Only if the rollout is stuck or failing: why the new pods do not become ready (crashes, image pulls, probes, quota, admission).' },
        {
          tool: 'rollout_undo',
          args: { ...target, dryRun: true },
          why: 'Only if a rollback is warranted: rehearse it as a dry run (add toRevision to pick a revision from rollout_history) and show the template diff it returns. Never call it without dryRun: true unless the user has seen that diff and confirmed.',
        },
      ],
      answer: 'Answer with the rollout state, what changed between the revisions, the cause of any failure with its evidence, and a recommendation: wait, fix forward, or roll back to revision N.',
    };
  },
};
