import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceServerSchema } from '../config/mcp.js';
import { InvalidTokenError } from './principal.js';
import { ResourceServerVerifier } from './resource-server.js';

const RESOURCE = 'https://gw.example.test/orgs/acme/mcp';
let server: Server;
let key: CryptoKey;
let verifier: ResourceServerVerifier;
let issuer: string;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  key = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256' };
  server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/mcp`;
  verifier = new ResourceServerVerifier([{ name: 'acme', resourceServer: resourceServerSchema.parse({ issuer }) }]);
});
afterAll(() => void server.close());

const sign = (claims: Record<string, unknown>, opts: { aud?: string; exp?: string; alg?: string; iss?: string } = {}) =>
  new SignJWT({ preferred_username: 'alice', groups: ['k8s-admins'], azp: 'mcp-test', scope: 'openid mcp:tools:read', ...claims })
    .setProtectedHeader({ alg: opts.alg ?? 'RS256', kid: 'k1' })
    .setSubject('u-alice')
    .setIssuer(opts.iss ?? issuer)
    .setAudience(opts.aud ?? RESOURCE)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign(key);

describe('resource-server mode: Keycloak JWTs', () => {
  it('accepts a token for this MCP URL and maps its claims', async () => {
    const p = await verifier.verify('acme', RESOURCE, await sign({}));
    expect(p).toMatchObject({ sub: 'u-alice', username: 'alice', groups: ['k8s-admins'], clientId: 'mcp-test', scopes: ['openid', 'mcp:tools:read'], mode: 'resource-server' });
  });

  it('refuses a token for another audience as wrong_audience', async () => {
    await expect(verifier.verify('acme', RESOURCE, await sign({}, { aud: 'https://elsewhere.example.test/mcp' }))).rejects.toMatchObject({ problem: 'wrong_audience' });
  });

  it('refuses an expired token as expired', async () => {
    await expect(verifier.verify('acme', RESOURCE, await sign({}, { exp: '-1m' }))).rejects.toMatchObject({ problem: 'expired' });
  });

  it('refuses another issuer and a tampered signature', async () => {
    await expect(verifier.verify('acme', RESOURCE, await sign({}, { iss: 'https://evil.example.test/realms/mcp' }))).rejects.toBeInstanceOf(InvalidTokenError);
    const t = await sign({});
    await expect(verifier.verify('acme', RESOURCE, `${t.slice(0, -4)}AAAA`)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('refuses an algorithm that is not allowed (HS256 with the public key as secret)', async () => {
    const hs = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setSubject('x').setIssuer(issuer).setAudience(RESOURCE).setExpirationTime('5m').sign(new TextEncoder().encode('0123456789abcdef0123456789abcdef'));
    await expect(verifier.verify('acme', RESOURCE, hs)).rejects.toBeInstanceOf(InvalidTokenError);
  });
});
