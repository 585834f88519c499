import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SealError, Sealer, createSealer } from './seal.js';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };

describe('Sealer', () => {
  it('round-trips a secret and never contains the plaintext', () => {
    const s = new Sealer([k1]);
    const sealed = s.seal('refresh-token-value', 'grant:1');
    expect(sealed).not.toContain('refresh-token-value');
    expect(sealed.startsWith('v1.k1.')).toBe(true);
    expect(s.open(sealed, 'grant:1')).toBe('refresh-token-value');
  });
  it('opens values sealed with an older key after rotation', () => {
    const old = new Sealer([k1]).seal('x', 'a');
    const rotated = new Sealer([k2, k1]);
    expect(rotated.open(old, 'a')).toBe('x');
    expect(rotated.seal('y', 'a').startsWith('v1.k2.')).toBe(true);
  });
  it('refuses a value bound to another purpose, tampered, or sealed with an unknown key', () => {
    const s = new Sealer([k1]);
    const sealed = s.seal('x', 'grant:1');
    expect(() => s.open(sealed, 'grant:2')).toThrow(SealError);
    const p = sealed.split('.');
    p[3] = Buffer.from('y').toString('base64url');
    expect(() => s.open(p.join('.'), 'grant:1')).toThrow(SealError);
    expect(() => new Sealer([k2]).open(sealed, 'grant:1')).toThrow(/unknown key id/);
  });
  it('refuses keys that are not 32 bytes', () => {
    expect(() => new Sealer([{ id: 'short', key: randomBytes(16) }])).toThrow(/32 bytes/);
  });
});

describe('Sealer: tags and the factory', () => {
  it('refuses a sealed value whose GCM tag was truncated (GCM would otherwise accept 4-byte tags)', () => {
    const s = new Sealer([k1]);
    const p = s.seal('secret', 'a').split('.');
    for (const bytes of [4, 8, 12, 15]) {
      const truncated = [...p.slice(0, 4), Buffer.from(p[4]!, 'base64url').subarray(0, bytes).toString('base64url')].join('.');
      expect(() => s.open(truncated, 'a'), `${bytes}-byte tag`).toThrow(SealError);
    }
  });
  it('builds from configured keys, refuses Redis without keys, and gives the memory store a per-process key', () => {
    const keys = [{ id: 'k1', key: k1.key.toString('base64') }];
    expect(createSealer(keys, { kind: 'redis' }).seal('x', 'a').startsWith('v1.k1.')).toBe(true);
    expect(() => createSealer([], { kind: 'redis' })).toThrow(/encryptionKeys are required/);
    const a = createSealer([], { kind: 'memory' });
    expect(() => createSealer([], { kind: 'memory' }).open(a.seal('x', 'a'), 'a')).toThrow(SealError);
  });
});
