import { readFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';

/** The fetch signature openid-client, jose and our own callers share. */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export interface TrustOptions {
  /** PEM file of a private CA (Keycloak, document hosts), trusted in addition to the system roots. */
  caFile?: string;
  /** PEM text, for callers that already read it. */
  ca?: string;
  /** Resolves and vets addresses at connect time (the SSRF filter of client ID metadata documents). */
  lookup?: LookupFunction;
  connectTimeoutMs?: number;
}

const shared = new Map<string, Agent>();

/**
 * The one place outbound TLS trust is decided: an undici Agent with the system roots plus the configured CA.
 * Agents without a custom lookup are kept per CA file for the process, so Keycloak calls reuse connections.
 */
export function trustingAgent(opts: TrustOptions = {}): Agent {
  const pem = opts.ca ?? (opts.caFile ? readFileSync(opts.caFile, 'utf8') : undefined);
  const build = () =>
    new Agent({
      connect: { ...(pem ? { ca: [...rootCertificates, pem] } : {}), ...(opts.lookup ? { lookup: opts.lookup } : {}) },
      keepAliveTimeout: 30_000,
      ...(opts.connectTimeoutMs ? { connectTimeout: opts.connectTimeoutMs } : {}),
    });
  if (opts.lookup || opts.ca || opts.connectTimeoutMs) return build();
  const id = opts.caFile ?? '';
  let agent = shared.get(id);
  if (!agent) shared.set(id, (agent = build()));
  return agent;
}

/** A fetch through `agent` (undici's own fetch, so the dispatcher is always honoured). */
export function fetchVia(agent: Agent): FetchLike {
  return (url, init) => undiciFetch(url, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>;
}

/** A fetch that trusts `caFile` besides the system roots (Keycloak's token, discovery and JWKS endpoints). */
export function fetchTrusting(caFile: string | undefined): FetchLike {
  return fetchVia(trustingAgent(caFile ? { caFile } : {}));
}
