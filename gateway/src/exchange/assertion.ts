import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importPKCS8, type CryptoKey, type JWK } from 'jose';
import { createPublicKey, createPrivateKey } from 'node:crypto';
import { signIdentityAssertion } from '@kmg/shared';
import type { Principal } from '../auth/principal.js';
import type { ClusterConfig, McpGlobalConfig } from '../config/mcp.js';
import { impersonationNames } from './impersonation-names.js';

/**
 * Signs the short-lived identity assertions impersonation-mode clusters get instead of a bearer,
 * and publishes the public key as a JWKS for workers.
 */
export class IdentityAssertionSigner {
  private constructor(
    private readonly key: CryptoKey,
    private readonly publicJwk: JWK,
    private readonly cfg: McpGlobalConfig['identityAssertion'],
    private readonly issuer: string,
  ) {}

  /**
   * Loads the configured key, or (one replica only: the config refuses a generated key with Redis storage)
   * generates one for this process. A generated key's kid is its RFC 7638 thumbprint, so two processes never
   * publish different keys under one kid (a worker that cached one would refuse the other's assertions).
   */
  static async create(cfg: McpGlobalConfig['identityAssertion'], publicUrl: string): Promise<IdentityAssertionSigner> {
    const issuer = cfg.issuer ?? publicUrl;
    if (cfg.signingKeyFile) {
      const pem = readFileSync(cfg.signingKeyFile, 'utf8');
      const key = await importPKCS8(pem, cfg.alg);
      const pub = createPublicKey(createPrivateKey(pem));
      const jwk = await exportJWK(pub);
      return new IdentityAssertionSigner(key, { ...jwk, kid: cfg.keyId, alg: cfg.alg, use: 'sig' }, cfg, issuer);
    }
    const { privateKey, publicKey } = await generateKeyPair(cfg.alg, { extractable: true });
    const jwk = await exportJWK(publicKey);
    const kid = `generated-${await calculateJwkThumbprint(jwk)}`;
    return new IdentityAssertionSigner(privateKey, { ...jwk, kid, alg: cfg.alg, use: 'sig' }, { ...cfg, keyId: kid }, issuer);
  }

  get assertionIssuer(): string {
    return this.issuer;
  }

  jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  /**
   * A fresh assertion for one request (never reused: workers accept each jti once). Names are prefixed per
   * cluster and never `system:` (impersonation-names.ts); throws IdentityRefusedError for a user that cannot be one.
   */
  async sign(principal: Principal, cluster: ClusterConfig, audience: string): Promise<string> {
    const names = impersonationNames(principal, cluster);
    return signIdentityAssertion(
      { sub: names.user, groups: names.groups, cluster: cluster.name, client_id: principal.clientId },
      this.key,
      { issuer: this.issuer, audience, ttlSeconds: this.cfg.ttlSeconds, keyId: this.cfg.keyId, alg: this.cfg.alg },
    );
  }
}
