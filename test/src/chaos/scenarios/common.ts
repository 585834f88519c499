// Pieces the scenarios share: the topology-plus-load lifetime and the result skeleton.
import { loadStackEnv, type StackEnv } from '../../stack/env.js';
import { Load } from '../load.js';
import type { ScenarioOptions, ScenarioResult } from '../scenario.js';
import { startTopology, type Topology, type TopologyOptions } from '../topology.js';

export interface Rig {
  env: StackEnv;
  topo: Topology;
  load: Load;
}

/** Starts a topology and load on it, runs `body`, and always stops both. */
export async function withRig<T>(opts: ScenarioOptions, load: { longCallSeconds: number; pauseMs: number }, topology: TopologyOptions, body: (rig: Rig) => Promise<T>): Promise<T> {
  const env = loadStackEnv();
  const topo = await startTopology(env, topology);
  const l = new Load({ env, url: topo.mcpUrl, clients: opts.clients, ...load, report: opts.report });
  try {
    await l.start();
    return await body({ env, topo, load: l });
  } finally {
    await l.stop().catch(() => undefined);
    await topo.stop();
  }
}

export function resultOf(name: string, target: string, load: Load, extra: Partial<ScenarioResult> & { met: boolean; notes: string[] }): ScenarioResult {
  const r = { name, target, ...load.summary(), sessionsLost: load.sessionsLost, familiesRevoked: 0, recoverMs: null, unauthenticated200: load.unauthenticated200, ...extra };
  return { ...r, notes: [...r.notes, ...load.examples().map((e) => `failure ${e}`)] };
}

/** Failure kinds that are a clear JSON-RPC error to the client (an error object with a code), not a hang or a cut. */
export function isClearError(kind: string): boolean {
  return kind.startsWith('jsonrpc ') || kind.startsWith('http ') || kind === 'tool error';
}
