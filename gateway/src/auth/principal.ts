/**
 * The contract between the authorization-server facade (oauth/) and the MCP path (mcp/):
 * who is calling, established from the bearer token on an MCP request.
 */
export interface Principal {
  org: string;
  /** Keycloak subject (stable user id). */
  sub: string;
  /** Keycloak preferred_username, for audit and display. */
  username: string;
  groups: string[];
  /** The MCP client the token was issued to (gateway mode) or the azp (resource-server mode). */
  clientId: string;
  scopes: string[];
  /** Gateway-mode grant id: the key to the user's stored (encrypted) Keycloak tokens. */
  grantId?: string;
  /** Epoch seconds. */
  expiresAt: number;
  mode: 'gateway' | 'resource-server';
}

export type TokenProblem = 'missing' | 'invalid' | 'expired' | 'revoked' | 'wrong_audience';

/** Thrown by a verifier; the MCP path turns it into 401 + WWW-Authenticate. */
export class InvalidTokenError extends Error {
  constructor(readonly problem: TokenProblem, message: string) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

export interface AccessTokenVerifier {
  /** Resolves the principal, or throws InvalidTokenError. `resource` is the MCP URL the request hit. */
  verify(org: string, resource: string, token: string): Promise<Principal>;
}

/**
 * Hands the MCP path a current Keycloak access token for the user behind a gateway grant,
 * refreshing it (single-flight across replicas) when near expiry. Throws InvalidTokenError('revoked')
 * when Keycloak refuses the refresh, so the client gets 401 and logs in again.
 */
export interface UpstreamTokenSource {
  subjectToken(principal: Principal): Promise<string>;
}
