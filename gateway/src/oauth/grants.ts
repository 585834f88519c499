import type { KvStore } from '../store/kv.js';
import type { Sealer } from '../crypto/seal.js';
import { SealedRecords } from '../store/sealed.js';
import type { UpstreamTokens, UpstreamUser } from './keycloak.js';
import { hashToken, randomToken } from './tokens.js';

/**
 * A grant is one user's authorization of one client at one site (org + base); it is also the refresh-token
 * family. Deleting the grant revokes everything it issued: access tokens are checked against it on every
 * MCP request, refresh tokens rotate inside it.
 *
 * Keys (the store adds its prefix; every key has a TTL). Every value is sealed (AES-256-GCM) and bound to its
 * key, so a record written or copied by someone without the encryption keys reads as absent:
 *   grant:{gid}        Grant                      pending: login TTL; active: refresh lifetime, slid on refresh
 *   grant:{gid}:fam    Family (current/previous refresh hash), compare-and-set on rotation
 *   grant:{gid}:kc     Keycloak tokens
 *   at:{sha256}        AccessRecord               access-token lifetime
 *   code:{sha256}      CodeRecord                 code lifetime; taken once, then a tombstone for 1 day (replay)
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
  /** The current refresh token itself (the record is sealed): a retry within the grace window gets it back. */
  currentToken: string;
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
  private readonly records: SealedRecords;
  constructor(
    private readonly kv: KvStore,
    private readonly sealer: Sealer,
    private readonly now: () => number,
  ) {
    this.records = new SealedRecords(kv, sealer);
  }

  private nowS(): number {
    return Math.floor(this.now() / 1000);
  }

  async get(gid: string): Promise<Grant | null> {
    return this.records.get<Grant>(`grant:${gid}`);
  }

  /** After consent: a grant that becomes active when its code is redeemed. */
  async createPending(g: Omit<Grant, 'id' | 'createdAt' | 'active'>, upstream: UpstreamTokens, ttlSeconds: number): Promise<Grant> {
    const grant: Grant = { ...g, id: randomToken(18), createdAt: this.now(), active: false };
    await this.records.set(`grant:${grant.id}`, grant, ttlSeconds);
    await this.saveUpstream(grant.id, upstream, ttlSeconds);
    return grant;
  }

  async issueCode(rec: CodeRecord, ttlSeconds: number): Promise<string> {
    const code = randomToken();
    await this.records.set(`code:${hashToken(code)}`, rec, ttlSeconds);
    return code;
  }

  /**
   * Takes a code exactly once, atomically (RFC 6749 §4.1.2, OAuth 2.1 §4.1.3): the code's key becomes a
   * tombstone in the same step, so a second presentation, even one racing the first, is recognised as a replay
   * and revokes the grant the code belongs to.
   */
  async redeemCode(code: string): Promise<{ rec: CodeRecord } | { replayed: boolean }> {
    const key = `code:${hashToken(code)}`;
    const taken = await this.kv.takeOnce(key, CODE_REPLAY_MEMORY_S);
    const rec = taken ? this.records.open<CodeRecord>(key, taken.value) : null;
    if (!taken || !rec) return { replayed: false };
    if (!taken.first) {
      await this.revoke(rec.gid);
      return { replayed: true };
    }
    return { rec };
  }

  /**
   * Activates a pending grant and mints the first token pair (the family starts here). The pending record is
   * replaced by compare-and-set, so a grant revoked meanwhile (a racing code replay) is not brought back:
   * null then, and the caller refuses the code.
   */
  async activate(gid: string, life: TokenLifetimes): Promise<{ grant: Grant; tokens: IssuedTokens } | null> {
    const key = `grant:${gid}`;
    const pending = await this.records.read<Grant>(key);
    if (!pending || pending.value.active) return null;
    const active: Grant = { ...pending.value, active: true };
    const ttl = life.refreshTokenTtlSeconds;
    if (!(await this.kv.compareAndSet(key, pending.raw, this.records.seal(key, active), ttl))) return null;
    const refresh = `${REFRESH_PREFIX}${gid}.${randomToken()}`;
    const fam: Family = { current: hashToken(refresh), currentToken: refresh, rotatedAt: this.now() };
    await this.records.set(`grant:${gid}:fam`, fam, ttl);
    await this.kv.expire(`grant:${gid}:kc`, ttl);
    return { grant: active, tokens: { ...(await this.mintAccess(active, life)), refresh_token: refresh } };
  }

  private async mintAccess(grant: Grant, life: TokenLifetimes, scopes = grant.scopes): Promise<Omit<IssuedTokens, 'refresh_token'>> {
    const token = `${ACCESS_PREFIX}${randomToken()}`;
    const rec: AccessRecord = { gid: grant.id, exp: this.nowS() + life.accessTokenTtlSeconds, scopes, resource: grant.resource, clientId: grant.clientId };
    await this.records.set(`at:${hashToken(token)}`, rec, life.accessTokenTtlSeconds);
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
      const famKey = `grant:${gid}:fam`;
      const [grant, stored] = [await this.get(gid), await this.records.read<Family>(famKey)];
      if (!grant || !grant.active || !stored) return { ok: false, reason: 'unknown' };
      check(grant);
      const fam = stored.value;
      const inGrace = fam.previous === presented && this.now() - fam.rotatedAt <= life.refreshGraceSeconds * 1000;
      if (fam.current !== presented && !inGrace) {
        await this.revoke(gid);
        return { ok: false, reason: 'reused' };
      }
      const ttl = life.refreshTokenTtlSeconds;
      if (inGrace) {
        // Idempotent within the grace window: the same current refresh token again, a fresh access token.
        return { ok: true, grant, tokens: { ...(await this.mintAccess(grant, life, narrowTo)), refresh_token: fam.currentToken } };
      }
      const refresh = `${REFRESH_PREFIX}${gid}.${randomToken()}`;
      const next: Family = { current: hashToken(refresh), currentToken: refresh, previous: presented, rotatedAt: this.now() };
      if (await this.kv.compareAndSet(famKey, stored.raw, this.records.seal(famKey, next), ttl)) {
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
    return this.records.get<AccessRecord>(`at:${hashToken(token)}`);
  }

  async revokeAccess(token: string): Promise<AccessRecord | null> {
    if (!token.startsWith(ACCESS_PREFIX)) return null;
    return this.records.getDel<AccessRecord>(`at:${hashToken(token)}`);
  }

  /** Ends a grant: its refresh family, its sealed upstream tokens and (via the check in verify) its access tokens. */
  async revoke(gid: string): Promise<void> {
    await this.kv.del(`grant:${gid}`, `grant:${gid}:fam`, `grant:${gid}:kc`);
  }

  /**
   * The user's groups as the identity provider now reports them (after an upstream refresh), so someone removed
   * from a group loses it within one Keycloak token lifetime instead of at the next login. Only for the same
   * subject; compare-and-set, so a revocation racing this is never undone.
   */
  async updateUser(gid: string, user: UpstreamUser): Promise<boolean> {
    const key = `grant:${gid}`;
    for (let attempt = 0; attempt < 3; attempt++) {
      const cur = await this.records.read<Grant>(key);
      if (!cur || cur.value.user.sub !== user.sub) return false;
      const same = cur.value.user.username === user.username && cur.value.user.groups.join('\n') === user.groups.join('\n');
      if (same) return true;
      const ttl = (await this.kv.ttl(key)) ?? 0;
      if (ttl <= 0) return false;
      if (await this.kv.compareAndSet(key, cur.raw, this.records.seal(key, { ...cur.value, user }), ttl)) return true;
    }
    return false;
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
