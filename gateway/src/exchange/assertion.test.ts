import { decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { clusterSchema, mcpGlobalSchema } from '../config/mcp.js';
import { IdentityAssertionSigner } from './assertion.js';

const cfg = mcpGlobalSchema.parse({}).identityAssertion;
const cluster = clusterSchema.parse({ name: 'c1', workers: ['http://127.0.0.1:9/'], identity: 'impersonation' });
const alice = { org: 'acme', sub: 'u', username: 'alice', groups: [], clientId: 'c', scopes: [], expiresAt: 0, mode: 'gateway' as const };

describe('generated identity assertion keys', () => {
  it('get a kid of their own, so two processes never publish different keys under one kid', async () => {
    const [a, b] = await Promise.all([IdentityAssertionSigner.create(cfg, 'https://gw.test'), IdentityAssertionSigner.create(cfg, 'https://gw.test')]);
    const [ka, kb] = [a.jwks().keys[0]!.kid, b.jwks().keys[0]!.kid];
    expect(ka).not.toBe(kb);
    expect(ka).not.toBe(cfg.keyId);
    expect(decodeProtectedHeader(await a.sign(alice, cluster, 'kmg-worker')).kid).toBe(ka);
  });
});
