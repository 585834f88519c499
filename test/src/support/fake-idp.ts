// The fake Keycloak both OAuth unit suites use (gateway/src/oauth/testing.ts and test/src/security): any code logs
// in `user`; refresh can be told to refuse. Lives in the test workspace so no copy of it ships in a package's dist.
import { createHash, randomBytes } from 'node:crypto';
import type { RefreshedTokens, UpstreamIdp, UpstreamTokens } from '@kmg/gateway/oauth/keycloak';

export interface FakeIdpOptions {
  now?: () => number;
  /**
   * The gateway's UpstreamRefusedError, from the copy of the gateway the suite runs (its src in the gateway's unit
   * tests, its dist in the test workspace): the gateway recognises a refused refresh with instanceof.
   */
  refused: (message: string) => Error;
}

export class FakeIdp implements UpstreamIdp {
  /** Who logs in; tests change groups to model an IdP admin editing the user between refreshes. */
  user = { sub: 'alice-sub', username: 'alice', groups: ['k8s-admins'] };
  refuseRefresh = false;
  refreshCalls = 0;
  accessLifetime = 300;
  private readonly now: () => number;
  constructor(private readonly opts: FakeIdpOptions) {
    this.now = opts.now ?? Date.now;
  }
  private tokens(n: number): UpstreamTokens {
    return { accessToken: `kc-access-${n}`, refreshToken: `kc-refresh-${n}`, expiresAt: Math.floor(this.now() / 1000) + this.accessLifetime };
  }
  async authorizationUrl(p: { redirectUri: string; state: string; nonce: string; codeChallenge: string }): Promise<URL> {
    const u = new URL('https://kc.test/realms/mcp/protocol/openid-connect/auth');
    for (const [k, v] of Object.entries({ redirect_uri: p.redirectUri, state: p.state, nonce: p.nonce, code_challenge: p.codeChallenge })) u.searchParams.set(k, v);
    return u;
  }
  async callback(p: { currentUrl: URL; state: string }) {
    if (p.currentUrl.searchParams.get('state') !== p.state) throw new Error('state mismatch');
    return { user: { ...this.user, groups: [...this.user.groups] }, tokens: this.tokens(0) };
  }
  async refresh(_rt: string): Promise<RefreshedTokens> {
    this.refreshCalls++;
    if (this.refuseRefresh) throw this.opts.refused('invalid_grant');
    return { ...this.tokens(this.refreshCalls), user: { ...this.user, groups: [...this.user.groups] } };
  }
}

/** A PKCE verifier and its S256 challenge. */
export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}
