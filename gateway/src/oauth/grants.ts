import type { KvStore } from '../store/kv.js';
import type { Sealer } from '../crypto/seal.js';
import type { UpstreamTokens, UpstreamUser } from './keycloak.js';
import { hashToken, randomToken } from './tokens.js';

/**
 * A grant is one user's authorization of one client at one site (org + base); it is also the refresh-token
 * family. Deleting the grant revokes everything it issued: access tokens are checked against it on every
 * MCP request, refresh tokens rotate inside it.
 *
 * Keys (the store adds its prefix; every key has a TTL):
 *   grant:{gid}        Grant JSON                 pending: login TTL; active: refresh lifetime, slid on refresh
 *   grant:{gid}:fam    Family JSON (current/previous refresh hash), compare-and-set on rotation
 *   grant:{gid}:kc     sealed Keycloak tokens (AES-256-GCM, bound to the grant id)
 *   at:{sha256}        AccessRecord               access-token lifetime
 *   code:{sha256}      CodeRecord                 code lifetime, taken with GETDEL (single use)
 *   code-used:{sha256} gid, for replay detection  1 day
 */
export interface Grant {
  id: string;
  org: string;
  /** Site base path ("" or "/orgs/x"): the issuer the grant belongs to. */
  base: string;
  clientId: string;
  user: UpstreamUser;
  scopes: string[];
  resource: string;
  createdAt: number;
  active: boolean;
}

export interface AccessRecord {
  gid: string;
  /** Epoch seconds. */
  exp: number;
  scopes: string[];
  resource: string;
  clientId: string;
}

export interface CodeRecord {
  gid: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  resource: string;
  scopes: string[];
}

interface Family {
  current: string;
  /** The current refresh token itself, sealed: a retry within the grace window gets the same one back. */
  currentSealed: string;
  previous?: string;
  /** Epoch ms when `current` replaced `previous`. */
  rotatedAt: number;
}

export interface TokenLifetimes {
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  authorizationCodeTtlSeconds: number;
  refreshGraceSeconds: number;
}

export interface IssuedTokens {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope: string;
}

export type RotateOutcome =
  | { ok: true; grant: Grant; tokens: IssuedTokens }
  | { ok: false; reason: 'unknown' | 'reused' };

const CODE_REPLAY_MEMORY_S = 24 * 3600;
const REFRESH_PREFIX = 'mcp_rt.';
const ACCESS_PREFIX = 'mcp_at.';

export class GrantStore {
  constructor(
    private readonly kv: KvStore,
    private readonly sealer: Sealer,
    private readonly now: () => number,
  ) {}

  private nowS(): number {
    return Math.floor(this.now() / 1000);
  }

  async get(gid: string): Promise<Grant | null> {
    const raw = await this.kv.get(`grant:${gid}`);
    return raw ? (JSON.parse(raw) as Grant) : null;
  }

  /** After consent: a grant that becomes active when its code is redeemed. */
  async createPending(g: Omit<Grant, 'id' | 'createdAt' | 'active'>, upstream: UpstreamTokens, ttlSeconds: number): Promise<Grant> {
    const grant: Grant = { ...g, id: randomToken(18), createdAt: this.now(), active: false };
    await this.kv.set(`grant:${grant.id}`, JSON.stringify(grant), ttlSeconds);
    await this.saveUpstream(grant.id, upstream, ttlSeconds);
    return grant;
  }

  async issueCode(rec: CodeRecord, ttlSeconds: number): Promise<string> {
    const code = randomToken();
    await this.kv.set(`code:${hashToken(code)}`, JSON.stringify(rec), ttlSeconds);
    return code;
  }

  /**
   * Takes a code exactly once. A second presentation finds the replay marker and revokes the grant the
   * first one activated (RFC 6749 §4.1.2, OAuth 2.1 §4.1.3).
   */
  async redeemCode(code: string): Promise<{ rec: CodeRecord } | { replayed: boolean }> {
    const h = hashToken(code);
    const raw = await this.kv.getDel(`code:${h}`);
    if (!raw) {
      const gid = await this.kv.get(`code-used:${h}`);
      if (gid) await this.revoke(gid);
      return { replayed: gid !== null };
    }
    const rec = JSON.parse(raw) as CodeRecord;
    await this.kv.set(`code-used:${h}`, rec.gid, CODE_REPLAY_MEMORY_S);
    return { rec };
  }

  /** Activates a pending grant and mints the first token pair (the family starts here). */
  async activate(grant: Grant, life: TokenLifetimes): Promise<IssuedTokens> {
    const active: Grant = { ...grant, active: true };
    const refresh = `${REFRESH_PREFIX}${grant.id}.${randomToken()}`;
    const fam: Family = { current: hashToken(refresh), currentSealed: this.sealer.seal(refresh, `fam:${grant.id}`), rotatedAt: this.now() };
    const ttl = life.refreshTokenTtlSeconds;
    await this.kv.set(`grant:${grant.id}:fam`, JSON.stringify(fam), ttl);
    await this.kv.set(`grant:${grant.id}`, JSON.stringify(active), ttl);
    await this.kv.expire(`grant:${grant.id}:kc`, ttl);
    return { ...(await this.mintAccess(active, life)), refresh_token: refresh };
  }

  private async mintAccess(grant: Grant, life: TokenLifetimes, scopes = grant.scopes): Promise<Omit<IssuedTokens, 'refresh_token'>> {
    const token = `${ACCESS_PREFIX}${randomToken()}`;
    const rec: AccessRecord = { gid: grant.id, exp: this.nowS() + life.accessTokenTtlSeconds, scopes, resource: grant.resource, clientId: grant.clientId };
    await this.kv.set(`at:${hashToken(token)}`, JSON.stringify(rec), life.accessTokenTtlSeconds);
    return { access_token: token, token_type: 'Bearer', expires_in: life.accessTokenTtlSeconds, scope: scopes.join(' ') };
  }

  static grantIdOfRefresh(token: string): string | null {
    if (!token.startsWith(REFRESH_PREFIX)) return null;
    const parts = token.slice(REFRESH_PREFIX.length).split('.');
    return parts.length === 2 && parts[0] ? parts[0] : null;
  }

  /**
   * Rotation with reuse detection, safe when replicas race: the family is replaced by compare-and-set, so
   * exactly one rotation of a given state wins. The token just rotated out stays usable for
   * `refreshGraceSeconds` and then returns the same current refresh token (kept sealed), so a client whose
   * response was lost, or two replicas serving the same refresh at once, end with one consistent family.
   * Any older token is reuse: the whole grant is revoked.
   */
  async rotate(token: string, life: TokenLifetimes, check: (g: Grant) => void, narrowTo?: string[]): Promise<RotateOutcome> {
    const gid = GrantStore.grantIdOfRefresh(token);
    if (!gid) return { ok: false, reason: 'unknown' };
    const presented = hashToken(token);
    for (let attempt = 0; attempt < 5; attempt++) {
      const [grant, famRaw] = [await this.get(gid), await this.kv.get(`grant:${gid}:fam`)];
      if (!grant || !grant.active || !famRaw) return { ok: false, reason: 'unknown' };
      check(grant);
      const fam = JSON.parse(famRaw) as Family;
      const inGrace = fam.previous === presented && this.now() - fam.rotatedAt <= life.refreshGraceSeconds * 1000;
      if (fam.current !== presented && !inGrace) {
        await this.revoke(gid);
        return { ok: false, reason: 'reused' };
      }
      const ttl = life.refreshTokenTtlSeconds;
      if (inGrace) {
        // Idempotent within the grace window: the same current refresh token again, a fresh access token.
        const again = this.sealer.open(fam.currentSealed, `fam:${gid}`);
        return { ok: true, grant, tokens: { ...(await this.mintAccess(grant, life, narrowTo)), refresh_token: again } };
      }
      const refresh = `${REFRESH_PREFIX}${gid}.${randomToken()}`;
      const next: Family = { current: hashToken(refresh), currentSealed: this.sealer.seal(refresh, `fam:${gid}`), previous: presented, rotatedAt: this.now() };
      if (await this.kv.compareAndSet(`grant:${gid}:fam`, famRaw, JSON.stringify(next), ttl)) {
        await this.kv.expire(`grant:${gid}`, ttl);
        await this.kv.expire(`grant:${gid}:kc`, ttl);
        return { ok: true, grant, tokens: { ...(await this.mintAccess(grant, life, narrowTo)), refresh_token: refresh } };
      }
      // Another replica rotated this family between our read and write: re-read and decide again.
    }
    return { ok: false, reason: 'unknown' };
  }

  async accessRecord(token: string): Promise<AccessRecord | null> {
    if (!token.startsWith(ACCESS_PREFIX)) return null;
    const raw = await this.kv.get(`at:${hashToken(token)}`);
    return raw ? (JSON.parse(raw) as AccessRecord) : null;
  }

  async revokeAccess(token: string): Promise<AccessRecord | null> {
    if (!token.startsWith(ACCESS_PREFIX)) return null;
    const raw = await this.kv.getDel(`at:${hashToken(token)}`);
    return raw ? (JSON.parse(raw) as AccessRecord) : null;
  }

  /** Ends a grant: its refresh family, its sealed upstream tokens and (via the check in verify) its access tokens. */
  async revoke(gid: string): Promise<void> {
    await this.kv.del(`grant:${gid}`, `grant:${gid}:fam`, `grant:${gid}:kc`);
  }

  async saveUpstream(gid: string, tokens: UpstreamTokens, ttlSeconds: number): Promise<string> {
    const sealed = this.sealer.seal(JSON.stringify(tokens), `grant:${gid}`);
    await this.kv.set(`grant:${gid}:kc`, sealed, ttlSeconds);
    return sealed;
  }

  async loadUpstream(gid: string): Promise<{ sealed: string; tokens: UpstreamTokens } | null> {
    const sealed = await this.kv.get(`grant:${gid}:kc`);
    if (!sealed) return null;
    return { sealed, tokens: JSON.parse(this.sealer.open(sealed, `grant:${gid}`)) as UpstreamTokens };
  }

  /** Replaces the sealed upstream tokens only if nobody else did meanwhile. */
  async replaceUpstream(gid: string, previousSealed: string, tokens: UpstreamTokens): Promise<boolean> {
    const ttl = (await this.kv.ttl(`grant:${gid}`)) ?? 60;
    const sealed = this.sealer.seal(JSON.stringify(tokens), `grant:${gid}`);
    return this.kv.compareAndSet(`grant:${gid}:kc`, previousSealed, sealed, ttl);
  }
}
