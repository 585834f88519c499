import { callArgs, clusterArgument, namespaceArg, sinceArg, type PromptDef } from './define.js';

export const clusterHealthCheck: PromptDef = {
  name: 'cluster_health_check',
  title: 'Cluster health check',
  description: 'Check a cluster (or one namespace): nodes, crashlooping and not-Ready pods, failed Jobs, unavailable Deployments and recent warnings, then diagnose the worst workloads. Read-only.',
  arguments: [
    { name: 'namespace', description: 'Limit the check to one namespace. Omit to check the whole cluster.', required: false, schema: namespaceArg },
    { name: 'since', description: 'How far back to read warning events, e.g. "30m", "2h" (default "1h").', required: false, schema: sinceArg },
    clusterArgument,
  ],
  tools: ['cluster_health', 'workload_diagnose', 'events_list', 'pods_log'],
  render(a) {
    const where = a.namespace ? `namespace ${a.namespace}` : 'the whole cluster';
    return {
      task: `Check the health of ${where}${a.cluster ? ` on cluster ${a.cluster}` : ''} and report what is wrong and why.`,
      steps: [
        {
          tool: 'cluster_health',
          args: callArgs(a, { namespace: a.namespace }),
          why: 'One call for the overview: nodes (Ready, pressure), pods waiting in CrashLoopBackOff or ImagePullBackOff, not-Ready pods and restart counts, failed Jobs, unavailable Deployments, the newest Warning events.',
        },
        {
          tool: 'workload_diagnose',
          args: callArgs(a, { kind: '<kind>', name: '<name>', namespace: '<namespace>' }),
          why: 'For each unhealthy workload cluster_health names (at most three, worst first): container states and exit codes, OOMKilled, probe and image-pull failures, ReplicaSets, quota and admission refusals.',
        },
        {
          tool: 'events_list',
          args: callArgs(a, { namespace: a.namespace, type: 'Warning', since: a.since ?? '1h' }),
          why: 'Only if the cause is still unclear: the recent warnings, newest first, repeats folded.',
        },
        {
          tool: 'pods_log',
          args: callArgs(a, { name: '<pod>', namespace: '<namespace>', previous: true, tail: 100, grep: 'panic|fatal|error|exception', ignoreCase: true }),
          why: 'Only for a crashing container whose cause the diagnosis did not show: the previous instance\'s last errors.',
        },
      ],
      answer: 'Answer with a one-line verdict (healthy, degraded or failing), then a table of problems (object, symptom, likely cause, evidence quoted from a tool result), then the next steps you suggest. Change nothing in the cluster.',
    };
  },
};
