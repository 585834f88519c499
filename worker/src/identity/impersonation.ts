import { createPublicKey } from 'node:crypto';
import { verifyIdentityAssertion, type IdentityClaims } from '@kmg/shared';
import { createRemoteJWKSet, importJWK, type JWK, type JWTVerifyGetKey } from 'jose';
import type { AssertionConfig } from '../config.js';
import type { Identity } from './types.js';

type VerifyKey = Parameters<typeof verifyIdentityAssertion>[1];

/** Verifies gateway-signed identity assertions (jose, via @kmg/shared) into an impersonation identity. */
export class AssertionVerifier {
  private keyPromise: Promise<VerifyKey> | undefined;

  constructor(private readonly config: AssertionConfig) {}

  private key(): Promise<VerifyKey> {
    this.keyPromise ??= (async () => {
      if (this.config.jwksUrl) return createRemoteJWKSet(new URL(this.config.jwksUrl)) as JWTVerifyGetKey;
      const pk = this.config.publicKey!.trim();
      if (pk.startsWith('{')) return (await importJWK(JSON.parse(pk) as JWK, (JSON.parse(pk) as JWK).alg ?? 'ES256')) as VerifyKey;
      return createPublicKey(pk);
    })();
    return this.keyPromise;
  }

  async verify(token: string, now?: Date): Promise<Identity> {
    const claims: IdentityClaims = await verifyIdentityAssertion(token, await this.key(), {
      issuer: this.config.issuer,
      audience: this.config.audience,
      ...(now ? { currentDate: now } : {}),
    });
    return { kind: 'impersonation', user: claims.sub, groups: claims.groups };
  }
}
