import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import type { OAuthOrgConfig } from '../config/oauth.js';
import { fetchTrusting } from '../http/ca-fetch.js';
import { IDP_RETRY_AFTER_SECONDS, UnavailableError } from '../http/unavailable.js';

/** The user's tokens at the identity provider, kept sealed behind a gateway grant. */
export interface UpstreamTokens {
  accessToken: string;
  refreshToken?: string;
  /** Epoch seconds. */
  expiresAt: number;
}

export interface UpstreamUser {
  sub: string;
  username: string;
  groups: string[];
}

/** A refresh's result: new tokens and, when the IdP said, who the user is now (groups change between logins). */
export interface RefreshedTokens extends UpstreamTokens {
  user?: UpstreamUser;
}

/** Keycloak refused to refresh (user disabled, session ended, token revoked): the grant must end. */
export class UpstreamRefusedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpstreamRefusedError';
  }
}

/** What the authorization server needs from the identity provider; a fake implements it in unit tests. */
export interface UpstreamIdp {
  authorizationUrl(p: { redirectUri: string; state: string; nonce: string; codeChallenge: string }): Promise<URL>;
  /** Completes the login: checks state, nonce, issuer and PKCE, returns the user and tokens. */
  callback(p: { currentUrl: URL; state: string; nonce: string; codeVerifier: string }): Promise<{ user: UpstreamUser; tokens: UpstreamTokens }>;
  /**
   * Throws UpstreamRefusedError when the IdP answers invalid_grant, UnavailableError when it cannot be reached or
   * fails (the grant stays as it was, so the refresh can be retried).
   */
  refresh(refreshToken: string): Promise<RefreshedTokens>;
}

function toTokens(r: client.TokenEndpointResponse, previousRefresh?: string): UpstreamTokens {
  return {
    accessToken: r.access_token,
    refreshToken: r.refresh_token ?? previousRefresh,
    expiresAt: Math.floor(Date.now() / 1000) + (r.expires_in ?? 300),
  };
}

/** The groups claim of the first source that has one; undefined when none has the claim. */
function groupsOf(...sources: Record<string, unknown>[]): string[] | undefined {
  for (const s of sources) {
    const g = s.groups;
    if (Array.isArray(g)) return g.filter((x): x is string => typeof x === 'string').map((x) => x.replace(/^\//, ''));
  }
  return undefined;
}

/**
 * Who the user is according to a token response: the ID token's claims, else the access token's (Keycloak's
 * are JWTs). Undefined when neither names a subject (an opaque token and no ID token on a refresh).
 */
function userOf(r: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers): (Omit<UpstreamUser, 'groups'> & { groups?: string[] }) | undefined {
  const claims = (r.claims() ?? {}) as Record<string, unknown>;
  let at: Record<string, unknown> = {};
  try {
    at = decodeJwt(r.access_token) as Record<string, unknown>;
  } catch {
    /* opaque access token: the ID token only */
  }
  const sub = claims.sub ?? at.sub;
  if (typeof sub !== 'string' || !sub) return undefined;
  const groups = groupsOf(claims, at);
  return { sub, username: String(claims.preferred_username ?? at.preferred_username ?? sub), ...(groups ? { groups } : {}) };
}

/** Keycloak could not be asked (connection refused or reset, timeout, a 5xx): not an answer about the user. */
function unreachable(e: unknown): boolean {
  if (e instanceof client.ResponseBodyError) return e.status >= 500;
  const name = (e as Error | undefined)?.name;
  return e instanceof TypeError || name === 'TimeoutError' || name === 'AbortError';
}

/**
 * The only module that talks to Keycloak for logins: openid-client as the confidential client
 * `mcp-gateway` (client_secret_basic), authorization code + PKCE S256 + state + nonce, issuer checked
 * by discovery. A private CA (caFile) is trusted through http/ca-fetch.ts, so NODE_EXTRA_CA_CERTS is
 * not needed.
 */
export function keycloakIdp(cfg: OAuthOrgConfig['keycloak']): UpstreamIdp {
  const trusting = fetchTrusting(cfg.caFile);
  const fetchWithCa: client.CustomFetch = (url, options) => trusting(url, options as RequestInit);
  let configuration: Promise<client.Configuration> | undefined;

  const config = (): Promise<client.Configuration> => {
    configuration ??= client
      .discovery(new URL(cfg.issuer), cfg.clientId, undefined, client.ClientSecretBasic(cfg.clientSecret), {
        [client.customFetch]: fetchWithCa,
        execute: cfg.allowInsecureHttp ? [client.allowInsecureRequests] : [],
        timeout: 10,
      })
      .then((c) => {
        c[client.customFetch] = fetchWithCa;
        return c;
      })
      .catch((e: unknown) => {
        configuration = undefined; // retry discovery on the next login
        throw e;
      });
    return configuration;
  };

  return {
    async authorizationUrl({ redirectUri, state, nonce, codeChallenge }) {
      return client.buildAuthorizationUrl(await config(), {
        redirect_uri: redirectUri,
        scope: cfg.scope,
        state,
        nonce,
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
      });
    },
    async callback({ currentUrl, state, nonce, codeVerifier }) {
      let r: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
      try {
        r = await client.authorizationCodeGrant(await config(), currentUrl, {
          expectedState: state,
          expectedNonce: nonce,
          pkceCodeVerifier: codeVerifier,
          idTokenExpected: true,
        });
      } catch (e) {
        throw unreachable(e) ? new UnavailableError('identity provider', `identity provider unavailable: ${(e as Error).message}`, IDP_RETRY_AFTER_SECONDS, { cause: e }) : e;
      }
      const user = userOf(r);
      if (!user) throw new Error('the identity provider returned no subject');
      return { user: { ...user, groups: user.groups ?? [] }, tokens: toTokens(r) };
    },
    async refresh(refreshToken) {
      try {
        const r = await client.refreshTokenGrant(await config(), refreshToken);
        // Read like a login: Keycloak leaves the groups claim out when the user has none, so absent means no groups.
        // A response naming no subject at all (opaque token, no ID token) leaves the grant's user as it was.
        const user = userOf(r);
        return { ...toTokens(r, refreshToken), ...(user ? { user: { ...user, groups: user.groups ?? [] } } : {}) };
      } catch (e) {
        if (e instanceof client.ResponseBodyError && (e.error === 'invalid_grant' || e.error === 'unauthorized_client')) {
          throw new UpstreamRefusedError(`identity provider refused the refresh: ${e.error}`, { cause: e });
        }
        // Unreachable, timed out, a 5xx, discovery failed: nothing was decided about the user's session.
        throw new UnavailableError('identity provider', `identity provider unavailable: ${(e as Error).message}`, IDP_RETRY_AFTER_SECONDS, { cause: e });
      }
    },
  };
}
