import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM sealing for everything the gateway keeps in its store that grants access (grants, refresh
 * families, access-token records, codes, clients, Keycloak tokens, exchanged tokens): confidentiality and
 * integrity, so whoever can write Redis still cannot mint a token. Output:
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
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', this.current.key, iv, { authTagLength: TAG_BYTES });
    c.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    return ['v1', this.current.id, iv.toString('base64url'), ct.toString('base64url'), c.getAuthTag().toString('base64url')].join('.');
  }

  open(sealed: string, aad: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== 'v1') throw new SealError('not a sealed value');
    const key = this.byId.get(parts[1]!);
    if (!key) throw new SealError(`sealed with unknown key id "${parts[1]}"`);
    const iv = Buffer.from(parts[2]!, 'base64url');
    const tag = Buffer.from(parts[4]!, 'base64url');
    // GCM accepts tags as short as 4 bytes unless told otherwise; a truncated tag is a forgery attempt.
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SealError('sealed value does not authenticate (bad iv or tag length)');
    try {
      const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      d.setAAD(Buffer.from(aad));
      d.setAuthTag(tag);
      return Buffer.concat([d.update(Buffer.from(parts[3]!, 'base64url')), d.final()]).toString('utf8');
    } catch (cause) {
      throw new SealError(`sealed value does not authenticate (${(cause as Error).message})`);
    }
  }
}

/**
 * The one way a gateway process gets its sealer: the configured keys (first seals, all open), or, with the
 * in-memory store only, a per-process key (nothing outlives the process there). Redis without keys is refused:
 * replicas would not open each other's values, and values would not survive a restart.
 */
export function createSealer(keys: ReadonlyArray<{ id: string; key: string }>, store: { kind: 'redis' | 'memory' }): Sealer {
  if (keys.length > 0) return new Sealer(keys.map((k) => Sealer.keyFrom(k.id, k.key)));
  if (store.kind === 'redis') throw new SealError('encryptionKeys are required with Redis storage');
  return new Sealer([{ id: 'ephemeral', key: randomBytes(32) }]);
}
