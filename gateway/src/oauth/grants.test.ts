import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { Sealer } from '../crypto/seal.js';
import { MemoryKvStore } from '../store/memory.js';
import { GrantStore, type TokenLifetimes } from './grants.js';
import { hashToken } from './tokens.js';
import { MCP_URL, obtainTokens, testApp } from './testing.js';

const life: TokenLifetimes = { accessTokenTtlSeconds: 900, refreshTokenTtlSeconds: 3600, authorizationCodeTtlSeconds: 60, refreshGraceSeconds: 10 };
const user = { sub: 'alice-sub', username: 'alice', groups: ['k8s-admins'] };
const upstream = { accessToken: 'kc-access', refreshToken: 'kc-refresh', expiresAt: 2_000_000_000 };

function store() {
  const kv = new MemoryKvStore();
  const grants = new GrantStore(kv, new Sealer([{ id: 'k1', key: randomBytes(32) }]), Date.now);
  return { kv, grants };
}

async function pendingWithCode(grants: GrantStore) {
  const grant = await grants.createPending({ org: 'acme', base: '/orgs/acme', clientId: 'c', user, scopes: ['mcp:tools:read'], resource: MCP_URL }, upstream, 120);
  const code = await grants.issueCode({ gid: grant.id, clientId: 'c', redirectUri: 'http://127.0.0.1/cb', codeChallenge: 'x', resource: MCP_URL, scopes: ['mcp:tools:read'] }, 60);
  return { grant, code };
}

describe('authorization codes', () => {
  it('recognise a replay racing the first redemption and revoke the grant', async () => {
    const { grants } = store();
    const { grant, code } = await pendingWithCode(grants);
    const [a, b] = await Promise.all([grants.redeemCode(code), grants.redeemCode(code)]);
    expect('rec' in a).toBe(true);
    expect(b).toEqual({ replayed: true });
    // The replay revoked the grant, so the first redemption cannot activate it any more.
    expect(await grants.get(grant.id)).toBeNull();
    expect(await grants.activate(grant.id, life)).toBeNull();
  });

  it('do not bring back a grant that was revoked between redemption and activation', async () => {
    const { grants } = store();
    const { grant, code } = await pendingWithCode(grants);
    expect('rec' in (await grants.redeemCode(code))).toBe(true);
    await grants.revoke(grant.id);
    expect(await grants.activate(grant.id, life)).toBeNull();
    expect(await grants.get(grant.id)).toBeNull();
  });

  it('activate a pending grant once only', async () => {
    const { grants } = store();
    const { grant } = await pendingWithCode(grants);
    expect(await grants.activate(grant.id, life)).not.toBeNull();
    expect(await grants.activate(grant.id, life)).toBeNull();
  });
});

describe('records in the store have integrity', () => {
  it('never hold the grant, user or tokens in the clear', async () => {
    const { app, store: kv } = testApp();
    const { tokens } = await obtainTokens(app);
    const gid = GrantStore.grantIdOfRefresh(tokens.refresh_token)!;
    for (const key of [`grant:${gid}`, `grant:${gid}:fam`, `grant:${gid}:kc`, `at:${hashToken(tokens.access_token)}`]) {
      const raw = (await kv.get(key))!;
      expect(raw, key).toMatch(/^v1\./);
      for (const secret of ['alice', 'k8s-admins', tokens.refresh_token, 'kc-access', 'kc-refresh', gid]) expect(raw, key).not.toContain(secret);
    }
  });

  it('refuse an access-token record written without the encryption keys', async () => {
    const { app, deps, store: kv } = testApp();
    const { client, tokens } = await obtainTokens(app);
    const gid = GrantStore.grantIdOfRefresh(tokens.refresh_token)!;
    // Someone who can write Redis mints "their" token for alice's grant, in the record format.
    const forged = 'mcp_at.forged-by-redis-writer';
    const rec = { gid, exp: Math.floor(Date.now() / 1000) + 3600, scopes: ['mcp:tools:read', 'mcp:tools:write'], resource: MCP_URL, clientId: client.client_id };
    await kv.set(`at:${hashToken(forged)}`, JSON.stringify(rec), 3600);
    await expect(deps.verifier.verify('acme', MCP_URL, forged)).rejects.toMatchObject({ problem: 'invalid' });
    // Nor does a genuine sealed record work when copied to another token's key.
    await kv.set(`at:${hashToken(forged)}`, (await kv.get(`at:${hashToken(tokens.access_token)}`))!, 3600);
    await expect(deps.verifier.verify('acme', MCP_URL, forged)).rejects.toMatchObject({ problem: 'invalid' });
    const res = await request(app).get('/orgs/acme/mcp').set('Authorization', `Bearer ${forged}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(JSON.stringify(res.body)).not.toContain('alice');
  });

  it('refuse a refresh family rewritten without the keys (no refresh token can be planted)', async () => {
    const { app, store: kv } = testApp();
    const { client, tokens } = await obtainTokens(app);
    const gid = GrantStore.grantIdOfRefresh(tokens.refresh_token)!;
    const planted = `mcp_rt.${gid}.planted`;
    await kv.set(`grant:${gid}:fam`, JSON.stringify({ current: hashToken(planted), currentToken: planted, rotatedAt: Date.now() }), 3600);
    const res = await request(app).post('/orgs/acme/token').type('form').send({ grant_type: 'refresh_token', refresh_token: planted, client_id: client.client_id });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
    expect(res.body.access_token).toBeUndefined();
  });

  it('refuse a grant record rewritten to widen scopes or change the user', async () => {
    const { app, deps, store: kv } = testApp();
    const { tokens } = await obtainTokens(app);
    const gid = GrantStore.grantIdOfRefresh(tokens.refresh_token)!;
    const grant = (await deps.verifier.verify('acme', MCP_URL, tokens.access_token));
    expect(grant.username).toBe('alice');
    await kv.set(`grant:${gid}`, JSON.stringify({ id: gid, org: 'acme', base: '/orgs/acme', clientId: grant.clientId, user: { sub: 'x', username: 'system:admin', groups: ['system:masters'] }, scopes: grant.scopes, resource: MCP_URL, createdAt: 0, active: true }), 3600);
    await expect(deps.verifier.verify('acme', MCP_URL, tokens.access_token)).rejects.toMatchObject({ problem: 'revoked' });
  });
});
