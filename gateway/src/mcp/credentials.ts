import type { ClusterConfig, ExchangeConfig } from '../config/mcp.js';
import type { OrgConfig } from '../config/schema.js';
import { ExchangeRefusedError, ExchangeUnavailableError, IdentityRefusedError } from '../exchange/errors.js';
import type { ClusterContext } from './context.js';
import { JsonRpcCode, McpRequestError } from './errors.js';
import type { McpRuntime } from './runtime.js';

/**
 * The credential the worker gets for the request's cluster: an exchanged token (bearer clusters), a signed identity
 * assertion naming that cluster (impersonation), or none (the worker's own identity, loopback only). The client's
 * own token is only ever a subject token at Keycloak, never forwarded. An InvalidTokenError (a revoked grant)
 * passes through as 401.
 */
export async function credentialStep(rt: McpRuntime, ctx: ClusterContext): Promise<string> {
  const { cluster, org, principal } = ctx;
  if (cluster.identity === 'worker') return '';
  if (cluster.identity === 'impersonation') {
    try {
      // The assertion's cluster claim is the request's pinned cluster; names get the cluster's prefixes.
      return await (await rt.signer).sign(principal, cluster, cluster.audience);
    } catch (err) {
      if (!(err instanceof IdentityRefusedError)) throw err;
      rt.logger.warn({ requestId: ctx.requestId, user: principal.username, cluster: cluster.name }, err.message);
      throw new McpRequestError(403, JsonRpcCode.ServerError, err.message, {}, 'denied');
    }
  }
  const subject = org.mode === 'resource-server' ? async () => ctx.token : () => rt.upstream.subjectToken(principal);
  try {
    return await rt.exchanger.tokenFor(principal, { audience: cluster.audience, scopes: cluster.exchangeScopes, exchange: exchangeFor(org, cluster) }, subject);
  } catch (err) {
    if (err instanceof ExchangeUnavailableError) {
      rt.logger.warn({ requestId: ctx.requestId, err: err.message }, 'token exchange unavailable');
      throw new McpRequestError(503, JsonRpcCode.ServerError, 'identity provider unavailable; retry later', { 'Retry-After': String(err.retryAfterSeconds) }, 'unavailable');
    }
    if (err instanceof ExchangeRefusedError) {
      rt.logger.error({ requestId: ctx.requestId, err: err.message }, 'token exchange refused');
      throw new McpRequestError(502, JsonRpcCode.ServerError, 'the identity provider refused to issue a token for this cluster', {}, 'rejected');
    }
    throw err;
  }
}

/** The exchange settings for a bearer cluster: its own, the org's, or the org's Keycloak client (gateway mode). */
export function exchangeFor(org: OrgConfig, cluster: ClusterConfig): ExchangeConfig {
  const cfg = cluster.exchange ?? org.exchange;
  if (cfg) return cfg;
  const kc = org.oauth?.keycloak;
  if (!kc) throw new Error(`cluster ${cluster.name} of org ${org.name} has no exchange settings`);
  return {
    strategy: 'keycloak-standard',
    tokenEndpoint: `${kc.issuer.replace(/\/+$/, '')}/protocol/openid-connect/token`,
    clientId: kc.clientId,
    clientSecret: kc.clientSecret,
    ...(kc.caFile ? { caFile: kc.caFile } : {}),
    timeoutMs: 5000,
    refreshSkewSeconds: 30,
  };
}
