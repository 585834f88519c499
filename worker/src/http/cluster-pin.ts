import type { IncomingHttpHeaders } from 'node:http';
import type { WorkerConfig } from '../config.js';

/**
 * The header naming the cluster the gateway decided a request is for. The gateway sets it on every request
 * it forwards (its own header, never a client's: the gateway forwards an allow-list of headers), so the
 * worker runs the call on the cluster the gateway's policy was decided for, whatever the arguments say.
 */
export const CLUSTER_HEADER = 'x-kmg-cluster';

/** A request the worker cannot place on a cluster: HTTP 400 before anything runs. */
export class ClusterPinError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterPinError';
  }
}

/**
 * The cluster named by the header (undefined when absent). Several values, an empty one or a cluster this
 * worker does not serve are refused rather than guessed at.
 */
export function clusterFromHeader(config: Pick<WorkerConfig, 'clusters'>, headers: IncomingHttpHeaders): string | undefined {
  const raw = headers[CLUSTER_HEADER];
  if (raw === undefined) return undefined;
  if (Array.isArray(raw) || raw.includes(',')) throw new ClusterPinError(`${CLUSTER_HEADER} must name exactly one cluster`);
  const name = raw.trim();
  if (!name) throw new ClusterPinError(`${CLUSTER_HEADER} is empty`);
  if (!config.clusters.some((c) => c.name === name)) throw new ClusterPinError(`${CLUSTER_HEADER} names cluster ${JSON.stringify(name)}, which this worker does not serve`);
  return name;
}

/** The only cluster of a one-cluster worker (where a request cannot mean any other), else undefined. */
export function onlyCluster(config: Pick<WorkerConfig, 'clusters'>): string | undefined {
  return config.clusters.length === 1 ? config.clusters[0]!.name : undefined;
}
