import type { Principal } from '../auth/principal.js';
import type { ClusterConfig } from '../config/mcp.js';
import type { OrgConfig } from '../config/schema.js';
import type { Site } from '../http/sites.js';
import type { WorkerPool } from '../workers/pool.js';
import type { ParsedRequest } from './parse.js';

/**
 * What the steps of one MCP request have established, as read-only values: each step takes the context so far
 * and the router spreads its result into the next one. Nothing is written back into a shared bag.
 */
export interface RequestContext {
  readonly site: Site;
  readonly org: OrgConfig;
  readonly requestId: string;
  /** Epoch ms when the request reached the MCP path. */
  readonly started: number;
  /** The cluster the URL serves (`/mcp` = the org's default, `/mcp/clusters/{name}`). */
  readonly urlCluster: ClusterConfig;
  /** The URL named its cluster (`/clusters/{name}`). */
  readonly explicitCluster: boolean;
  readonly sessionId: string | undefined;
}

export interface AuthenticatedContext extends RequestContext {
  readonly principal: Principal;
  /** The client's bearer: a subject token at Keycloak (resource-server mode), never forwarded. */
  readonly token: string;
}

export interface ParsedContext extends AuthenticatedContext {
  /** The one parse of a POST body (null for GET and DELETE). */
  readonly parsed: ParsedRequest | null;
}

export interface ClusterContext extends ParsedContext {
  /** The cluster the request acts on: policy, credential, workers and x-kmg-cluster all follow it. */
  readonly cluster: ClusterConfig;
  readonly pool: WorkerPool;
}

export interface CredentialContext extends ClusterContext {
  /** The exchanged bearer or identity assertion for `cluster` ('' when the worker uses its own identity). */
  readonly credential: string;
}
