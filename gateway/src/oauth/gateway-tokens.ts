import { randomToken } from './tokens.js';
import type { GrantStore } from './grants.js';
import { UpstreamRefusedError, type RefreshedTokens, type UpstreamIdp, type UpstreamTokens } from './keycloak.js';
import type { KvStore } from '../store/kv.js';
import { pollFor } from '../store/kv.js';
import { InvalidTokenError, type AccessTokenVerifier, type Principal, type UpstreamTokenSource } from '../auth/principal.js';
import type { Logger } from '@kmg/shared/logger';
import { IDP_RETRY_AFTER_SECONDS, UnavailableError } from '../http/unavailable.js';

const norm = (s: string) => s.replace(/\/+$/, '');

/** Verifies gateway-issued opaque access tokens: hashed lookup, expiry, audience (the MCP URL), live grant. */
export class GatewayTokenVerifier implements AccessTokenVerifier {
  constructor(
    private readonly grants: GrantStore,
    private readonly now: () => number,
  ) {}

  async verify(org: string, resource: string, token: string): Promise<Principal> {
    const rec = await this.grants.accessRecord(token);
    if (!rec) throw new InvalidTokenError('invalid', 'access token is not recognised');
    if (rec.exp * 1000 <= this.now()) throw new InvalidTokenError('expired', 'access token has expired');
    if (norm(rec.resource) !== norm(resource)) throw new InvalidTokenError('wrong_audience', 'access token was issued for another resource');
    const grant = await this.grants.get(rec.gid);
    if (!grant || !grant.active) throw new InvalidTokenError('revoked', 'access token has been revoked');
    if (grant.org !== org) throw new InvalidTokenError('wrong_audience', 'access token was issued for another organisation');
    return {
      org,
      sub: grant.user.sub,
      username: grant.user.username,
      groups: grant.user.groups,
      clientId: rec.clientId,
      scopes: rec.scopes,
      grantId: grant.id,
      expiresAt: rec.exp,
      mode: 'gateway',
    };
  }
}

export interface UpstreamRefreshOptions {
  grants: GrantStore;
  kv: KvStore;
  idpForOrg: (org: string, base: string) => UpstreamIdp;
  now: () => number;
  skewSeconds: (org: string) => number;
  logger: Logger;
  /** How long a follower waits for the replica holding the refresh lock. */
  waitMs?: number;
}

/**
 * The user's Keycloak tokens behind a gateway grant, refreshed before expiry. Single-flight across
 * replicas: a short Redis lock (SET NX) elects one refresher; the others poll for the new sealed value.
 * Keycloak refusing the refresh ends the gateway grant.
 */
export class GrantUpstreamTokens implements UpstreamTokenSource {
  constructor(private readonly o: UpstreamRefreshOptions) {}

  async subjectToken(principal: Principal): Promise<string> {
    if (!principal.grantId) throw new InvalidTokenError('invalid', 'not a gateway-issued token');
    try {
      return (await this.fresh(principal.grantId)).accessToken;
    } catch (e) {
      if (e instanceof UpstreamRefusedError) throw new InvalidTokenError('revoked', 'the sign-in session has ended; sign in again');
      throw e;
    }
  }

  /** Throws UpstreamRefusedError (grant revoked) or InvalidTokenError('revoked') when the grant is gone. */
  async fresh(gid: string): Promise<UpstreamTokens> {
    const nowS = () => this.o.now() / 1000;
    const current = await this.o.grants.loadUpstream(gid);
    const grant = await this.o.grants.get(gid);
    if (!current || !grant) throw new InvalidTokenError('revoked', 'grant has been revoked');
    const skew = this.o.skewSeconds(grant.org);
    if (current.tokens.expiresAt - skew > nowS()) return current.tokens;

    const lockKey = `grant:${gid}:kc-lock`;
    const lockValue = randomToken(12);
    if (await this.o.kv.setIfAbsent(lockKey, lockValue, 15)) {
      try {
        // Another replica may have refreshed between our read and the lock.
        const again = await this.o.grants.loadUpstream(gid);
        if (!again) throw new InvalidTokenError('revoked', 'grant has been revoked');
        if (again.tokens.expiresAt - skew > nowS()) return again.tokens;
        if (!again.tokens.refreshToken) throw new UpstreamRefusedError('no refresh token from the identity provider');
        let next: RefreshedTokens;
        try {
          next = await this.o.idpForOrg(grant.org, grant.base).refresh(again.tokens.refreshToken);
        } catch (e) {
          if (e instanceof UpstreamRefusedError) {
            this.o.logger.info({ grantId: gid, user: grant.user.username }, 'identity provider refused refresh; revoking grant');
            await this.o.grants.revoke(gid);
          }
          throw e;
        }
        const { user, ...tokens } = next;
        await this.o.grants.replaceUpstream(gid, again.sealed, tokens);
        if (user && !(await this.o.grants.updateUser(gid, user))) {
          this.o.logger.warn({ grantId: gid }, 'identity provider named another subject on refresh, or the grant ended; user not updated');
        }
        return tokens;
      } finally {
        await this.o.kv.delIfEquals(lockKey, lockValue);
      }
    }
    // Follower: wait for the leader's result (or the grant's end).
    type Wait = { kind: 'gone' } | { kind: 'tokens'; tokens: UpstreamTokens } | { kind: 'retry' };
    const result = await pollFor<Wait>(
      async () => {
        const now = await this.o.grants.loadUpstream(gid);
        if (!now) return { kind: 'gone' };
        if (now.sealed !== current.sealed) return { kind: 'tokens', tokens: now.tokens };
        if (!(await this.o.kv.get(lockKey))) return { kind: 'retry' };
        return null;
      },
      { timeoutMs: this.o.waitMs ?? 10_000, intervalMs: 50 },
    );
    if (!result) throw new UnavailableError('identity provider', 'timed out waiting for another replica to refresh the upstream token', IDP_RETRY_AFTER_SECONDS);
    if (result.kind === 'gone') throw new UpstreamRefusedError('grant was revoked while refreshing');
    if (result.kind === 'tokens') return result.tokens;
    return this.fresh(gid);
  }
}
