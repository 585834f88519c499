import { createPublicKey } from 'node:crypto';
import { verifyIdentityAssertion, type IdentityClaims } from '@kmg/shared';
import { createRemoteJWKSet, decodeJwt, importJWK, type JWK, type JWTVerifyGetKey } from 'jose';
import type { AssertionConfig } from '../config.js';
import { ReplayCache } from './replay.js';
import { reservedName, type Identity } from './types.js';

type VerifyKey = Parameters<typeof verifyIdentityAssertion>[1];

/** A verified assertion: who to impersonate, and the cluster the gateway signed it for. */
export interface VerifiedAssertion {
  identity: Identity & { kind: 'impersonation' };
  cluster: string | undefined;
}

/** An assertion that verified but must not be used; its message is safe to tell the caller. */
export class AssertionRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssertionRefused';
  }
}

/** Verifies gateway-signed identity assertions (jose, via @kmg/shared) into an impersonation identity. */
export class AssertionVerifier {
  private keyPromise: Promise<VerifyKey> | undefined;

  constructor(
    private readonly config: AssertionConfig,
    private readonly replays = new ReplayCache(),
  ) {}

  private key(): Promise<VerifyKey> {
    this.keyPromise ??= (async () => {
      if (this.config.jwksUrl) return createRemoteJWKSet(new URL(this.config.jwksUrl)) as JWTVerifyGetKey;
      const pk = this.config.publicKey!.trim();
      if (pk.startsWith('{')) return (await importJWK(JSON.parse(pk) as JWK, (JSON.parse(pk) as JWK).alg ?? 'ES256')) as VerifyKey;
      return createPublicKey(pk);
    })();
    return this.keyPromise;
  }

  /**
   * Signature, issuer, audience, type and lifetime (@kmg/shared), then this worker's rules: a jti, seen once;
   * no `system:` user or group. Throws AssertionRefused for the latter, anything else for the former.
   */
  async verify(token: string, now?: Date): Promise<VerifiedAssertion> {
    const claims: IdentityClaims = await verifyIdentityAssertion(token, await this.key(), {
      issuer: this.config.issuer,
      audience: this.config.audience,
      ...(now ? { currentDate: now } : {}),
    });
    // The signature is verified, so the payload can be read for the claims the shared schema does not return.
    const { jti, exp } = decodeJwt(token);
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw new AssertionRefused('identity assertion has no jti');
    if (!this.replays.firstUse(jti, exp!)) throw new AssertionRefused('identity assertion was already used (each request needs a fresh one)');
    const identity = { kind: 'impersonation' as const, user: claims.sub, groups: claims.groups };
    const reserved = reservedName(identity);
    if (reserved !== undefined) throw new AssertionRefused(`identity assertion names ${JSON.stringify(reserved)}: system: users and groups are never impersonated`);
    return { identity, cluster: claims.cluster };
  }
}
