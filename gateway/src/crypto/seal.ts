import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM sealing for secrets at rest (Keycloak tokens in Redis). Output:
 * `v1.<keyId>.<iv b64url>.<ciphertext b64url>.<tag b64url>`. The key id lets operators rotate:
 * seal with the first (current) key, open with any configured key. `aad` binds a sealed value to
 * its purpose (e.g. the grant id), so a value copied to another key does not open.
 */
export interface SealKey {
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

export class SealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealError';
  }
}

export class Sealer {
  private readonly byId: Map<string, Buffer>;
  private readonly current: SealKey;

  constructor(keys: SealKey[]) {
    if (keys.length === 0) throw new SealError('at least one encryption key is required');
    for (const k of keys) {
      if (k.key.length !== 32) throw new SealError(`encryption key "${k.id}" must be 32 bytes (AES-256)`);
      if (!/^[A-Za-z0-9_-]+$/.test(k.id)) throw new SealError(`encryption key id "${k.id}" may use A-Z a-z 0-9 _ - only`);
    }
    this.current = keys[0]!;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  /** Parses `base64:`/`hex:`-prefixed or raw base64 key material from config. */
  static keyFrom(id: string, material: string): SealKey {
    const key = material.startsWith('hex:') ? Buffer.from(material.slice(4), 'hex') : Buffer.from(material.replace(/^base64:/, ''), 'base64');
    return { id, key };
  }

  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.current.key, iv);
    c.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    return ['v1', this.current.id, iv.toString('base64url'), ct.toString('base64url'), c.getAuthTag().toString('base64url')].join('.');
  }

  open(sealed: string, aad: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== 'v1') throw new SealError('not a sealed value');
    const key = this.byId.get(parts[1]!);
    if (!key) throw new SealError(`sealed with unknown key id "${parts[1]}"`);
    try {
      const d = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[2]!, 'base64url'));
      d.setAAD(Buffer.from(aad));
      d.setAuthTag(Buffer.from(parts[4]!, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(parts[3]!, 'base64url')), d.final()]).toString('utf8');
    } catch (cause) {
      throw new SealError(`sealed value does not authenticate (${(cause as Error).message})`);
    }
  }
}
