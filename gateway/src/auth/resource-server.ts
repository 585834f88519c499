import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload } from 'jose';
import type { ResourceServerConfig } from '../config/mcp.js';
import { fetchTrusting } from '../http/ca-fetch.js';
import { InvalidTokenError, type AccessTokenVerifier, type Principal } from './principal.js';

export interface ResourceServerOrg {
  name: string;
  resourceServer: ResourceServerConfig;
}

/**
 * Resource-server mode: the client already holds a Keycloak access token for this MCP URL. Verified here
 * with jose against the realm's JWKS (fetched once and cached; refetched on an unknown `kid`, rate-limited by
 * jose's cooldown): signature with an allowed algorithm, `iss`, `aud`, `exp`, `nbf`.
 */
export class ResourceServerVerifier implements AccessTokenVerifier {
  readonly #jwks = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  constructor(
    private readonly orgs: ResourceServerOrg[],
    private readonly now: () => number = Date.now,
  ) {}

  async verify(org: string, resource: string, token: string): Promise<Principal> {
    const o = this.orgs.find((x) => x.name === org);
    if (!o) throw new InvalidTokenError('invalid', `org ${org} does not accept Keycloak tokens`);
    const rs = o.resourceServer;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#keySet(rs), {
        issuer: rs.issuer,
        audience: rs.audience ?? [resource],
        algorithms: rs.algorithms,
        clockTolerance: rs.clockToleranceSeconds,
        currentDate: new Date(this.now()),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      throw toTokenError(err);
    }
    const claims = payload as JWTPayload & { preferred_username?: unknown; groups?: unknown; azp?: unknown; scope?: unknown };
    return {
      org,
      sub: payload.sub!,
      username: typeof claims.preferred_username === 'string' ? claims.preferred_username : payload.sub!,
      groups: Array.isArray(claims.groups) ? claims.groups.filter((g): g is string => typeof g === 'string') : [],
      clientId: typeof claims.azp === 'string' ? claims.azp : 'unknown',
      scopes: typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [],
      expiresAt: payload.exp!,
      mode: 'resource-server',
    };
  }

  #keySet(rs: ResourceServerConfig): ReturnType<typeof createRemoteJWKSet> {
    const uri = rs.jwksUri ?? `${rs.issuer.replace(/\/+$/, '')}/protocol/openid-connect/certs`;
    let set = this.#jwks.get(uri);
    if (!set) {
      const f = fetchTrusting(rs.caFile);
      set = createRemoteJWKSet(new URL(uri), { [customFetch]: (url: string, init: RequestInit) => f(url, init) });
      this.#jwks.set(uri, set);
    }
    return set;
  }
}

function toTokenError(err: unknown): InvalidTokenError {
  if (err instanceof errors.JWTExpired) return new InvalidTokenError('expired', 'token expired');
  if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'aud') return new InvalidTokenError('wrong_audience', 'token is not for this MCP URL');
  if (err instanceof errors.JOSEError) return new InvalidTokenError('invalid', `token rejected: ${err.code}`);
  // JWKS unreachable and similar: still a refusal, never a pass.
  return new InvalidTokenError('invalid', 'token could not be verified');
}

/** RFC 9728 metadata for a resource-server org: the authorization server is Keycloak itself. */
export function resourceServerMetadata(resource: string, rs: ResourceServerConfig): Record<string, unknown> {
  return {
    resource,
    authorization_servers: [rs.issuer],
    scopes_supported: rs.scopesSupported,
    bearer_methods_supported: ['header'],
  };
}
