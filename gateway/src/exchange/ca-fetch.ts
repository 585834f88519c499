import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

const agents = new Map<string, Agent>();

/**
 * A fetch that trusts the CA in `caFile` (Keycloak behind a private CA) in addition to the system roots.
 * One connection pool per CA file, kept for the process: exchanges reuse TLS connections.
 */
export function fetchTrusting(caFile: string | undefined): FetchLike {
  if (!caFile) return (url, init) => fetch(url, init);
  let agent = agents.get(caFile);
  if (!agent) {
    agent = new Agent({ connect: { ca: readFileSync(caFile, 'utf8') }, keepAliveTimeout: 30_000 });
    agents.set(caFile, agent);
  }
  const dispatcher = agent;
  return (url, init) => undiciFetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
}
