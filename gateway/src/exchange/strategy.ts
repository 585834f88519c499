import * as client from 'openid-client';
import { InvalidTokenError } from '../auth/principal.js';
import type { ExchangeConfig } from '../config/mcp.js';
import { fetchTrusting } from '../http/ca-fetch.js';
import { ExchangeRefusedError, ExchangeUnavailableError } from './errors.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export interface ExchangeRequest {
  subjectToken: string;
  audience: string;
  scopes: string[];
}

export interface ExchangedToken {
  accessToken: string;
  /** Epoch seconds. */
  expiresAt: number;
}

/** One way of turning the user's token into a token for a cluster audience. */
export interface ExchangeStrategy {
  readonly name: string;
  exchange(req: ExchangeRequest): Promise<ExchangedToken>;
}

/** RFC 8693 parameters both strategies send; Keycloak's standard exchange ignores nothing here but `resource`. */
function baseParams(req: ExchangeRequest): Record<string, string> {
  const p: Record<string, string> = {
    subject_token: req.subjectToken,
    subject_token_type: ACCESS_TOKEN_TYPE,
    requested_token_type: ACCESS_TOKEN_TYPE,
    audience: req.audience,
  };
  if (req.scopes.length) p.scope = req.scopes.join(' ');
  return p;
}

/**
 * Token exchange as a confidential client through openid-client's generic grant.
 * keycloak-standard (Keycloak 26.2+ "standard token exchange"): audience only, no `resource`.
 * rfc8693: also sends `resource` when configured.
 */
export function createExchangeStrategy(cfg: ExchangeConfig, now: () => number = Date.now): ExchangeStrategy {
  const issuer = new URL(cfg.tokenEndpoint).origin;
  const config = new client.Configuration({ issuer, token_endpoint: cfg.tokenEndpoint }, cfg.clientId, undefined, client.ClientSecretBasic(cfg.clientSecret));
  const baseFetch = fetchTrusting(cfg.caFile);
  config[client.customFetch] = (url, options) =>
    baseFetch(url, { ...(options as RequestInit), signal: AbortSignal.timeout(cfg.timeoutMs) }) as ReturnType<NonNullable<typeof config[typeof client.customFetch]>>;
  if (cfg.tokenEndpoint.startsWith('http:')) client.allowInsecureRequests(config);

  return {
    name: cfg.strategy,
    async exchange(req) {
      // Keycloak grants an audience only through a client scope whose audience mapper adds it, so the
      // keycloak-standard strategy asks for the scope named like the audience unless scopes are configured.
      const scopes = req.scopes.length ? req.scopes : cfg.strategy === 'keycloak-standard' ? [req.audience] : [];
      const params = baseParams({ ...req, scopes });
      if (cfg.strategy === 'rfc8693' && cfg.resource) params.resource = cfg.resource;
      let res;
      try {
        res = await client.genericGrantRequest(config, TOKEN_EXCHANGE_GRANT, params);
      } catch (err) {
        throw classify(err);
      }
      const expiresIn = res.expires_in ?? 60;
      return { accessToken: res.access_token, expiresAt: Math.floor(now() / 1000) + expiresIn };
    },
  };
}

function classify(err: unknown): Error {
  if (err instanceof client.ResponseBodyError) {
    if (err.status >= 500) return new ExchangeUnavailableError(`token endpoint answered ${err.status}`, 10, { cause: err });
    // The subject token is no longer good (expired, session ended): the client must log in again.
    if (err.error === 'invalid_token' || err.error === 'invalid_grant') {
      return new InvalidTokenError('revoked', `token exchange refused the subject token: ${err.error_description ?? err.error}`);
    }
    return new ExchangeRefusedError(err.error, `token exchange refused: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}`, { cause: err });
  }
  if (err instanceof client.ClientError && (err as { code?: string }).code === 'OAUTH_RESPONSE_IS_NOT_CONFORM') {
    const status = (err.cause as Response | undefined)?.status;
    if (status !== undefined && status >= 500) return new ExchangeUnavailableError(`token endpoint answered ${status}`, 10, { cause: err });
  }
  return new ExchangeUnavailableError(`token endpoint unreachable: ${(err as Error).message}`, 10, { cause: err });
}
