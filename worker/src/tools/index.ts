import { canI } from './auth/can-i.js';
import { whoami } from './auth/whoami.js';
import { clusterHealth } from './cluster/health.js';
import { clustersList } from './cluster/clusters-list.js';
import { eventsList } from './core/events-list.js';
import { nodesLog } from './core/nodes-log.js';
import { namespacesList } from './core/namespaces-list.js';
import { nodesList } from './core/nodes-list.js';
import { nodesTop } from './core/nodes-top.js';
import { podsTop } from './core/pods-top.js';
import type { ToolDef } from './define.js';
import { helmHistory } from './helm/history.js';
import { helmRollback } from './helm/rollback.js';
import { helmReleaseGet } from './helm/release-get.js';
import { helmReleasesList } from './helm/releases-list.js';
import { podsDebug } from './pods/debug.js';
import { podsDelete } from './pods/delete.js';
import { podsExec } from './pods/exec.js';
import { podsGet } from './pods/get.js';
import { podsList } from './pods/list.js';
import { podsLog } from './pods/log.js';
import { podsPortForward } from './pods/port-forward.js';
import { apiResourcesList } from './resources/api-resources.js';
import { resourcesCreateOrUpdate } from './resources/apply.js';
import { resourcesDelete } from './resources/delete.js';
import { resourcesDescribe } from './resources/describe.js';
import { resourcesGet } from './resources/get.js';
import { resourcesList } from './resources/list.js';
import { resourcesPatch } from './resources/patch.js';
import { resourcesScale } from './resources/scale.js';
import { rolloutRestart } from './rollout/restart.js';
import { rolloutHistory, rolloutPause, rolloutResume, rolloutUndo } from './rollout/rollouts.js';
import { rolloutStatus } from './rollout/status.js';
import { workloadDiagnose } from './workload/diagnose.js';
import { workloadLogs } from './workload/logs.js';

export type AnyTool = ToolDef;

/** Every tool, grouped as the README lists them. */
export const ALL_TOOLS: readonly AnyTool[] = [
  resourcesList,
  resourcesGet,
  resourcesDescribe,
  resourcesCreateOrUpdate,
  resourcesPatch,
  resourcesDelete,
  resourcesScale,
  apiResourcesList,
  namespacesList,
  nodesList,
  nodesTop,
  nodesLog,
  eventsList,
  podsList,
  podsGet,
  podsLog,
  podsExec,
  podsDelete,
  podsPortForward,
  podsDebug,
  podsTop,
  rolloutStatus,
  rolloutRestart,
  rolloutHistory,
  rolloutUndo,
  rolloutPause,
  rolloutResume,
  workloadDiagnose,
  workloadLogs,
  canI,
  whoami,
  clusterHealth,
  helmReleasesList,
  helmReleaseGet,
  helmHistory,
  helmRollback,
  clustersList,
] as unknown as readonly AnyTool[];

/**
 * The registry: name → tool. Throws on a duplicate name, and on a write tool without `dryRun`
 * (every write must be rehearsable).
 */
export function buildRegistry(tools: readonly AnyTool[] = ALL_TOOLS): ReadonlyMap<string, AnyTool> {
  const registry = new Map<string, AnyTool>();
  for (const tool of tools) {
    if (registry.has(tool.name)) throw new Error(`duplicate tool name ${tool.name}`);
    if (!/^[a-z]+(_[a-z]+)*$/.test(tool.name)) throw new Error(`tool name ${tool.name} is not snake_case`);
    if (!tool.annotations.readOnlyHint && !('dryRun' in tool.input.shape)) throw new Error(`write tool ${tool.name} has no dryRun argument`);
    registry.set(tool.name, tool);
  }
  return registry;
}
