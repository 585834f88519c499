import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../http/unavailable.js';
import { keycloakIdp } from './keycloak.js';

const cfg = (issuer: string) => ({ issuer, clientId: 'mcp-gateway', clientSecret: 's', scope: 'openid', allowInsecureHttp: true });

describe('refreshing at the identity provider', () => {
  it('reports an unreachable identity provider as unavailable, not as a refusal that would end the grant', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const err = await keycloakIdp(cfg(`http://127.0.0.1:${port}/realms/mcp`)).refresh('kc-refresh').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).retryAfterSeconds).toBeGreaterThan(0);
  });

  it('reports an unreachable identity provider at the end of a sign-in as unavailable', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const idp = keycloakIdp(cfg(`http://127.0.0.1:${port}/realms/mcp`));
    const err = await idp.callback({ currentUrl: new URL('https://gw.test/callback?code=c&state=s'), state: 's', nonce: 'n', codeVerifier: 'v'.repeat(43) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
  });

  it('reports an identity provider answering 503 as unavailable', async () => {
    const down = createServer((_req, res) => void res.writeHead(503).end('maintenance'));
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
    try {
      const port = (down.address() as AddressInfo).port;
      const err = await keycloakIdp(cfg(`http://127.0.0.1:${port}/realms/mcp`)).refresh('kc-refresh').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnavailableError);
    } finally {
      await new Promise((r) => down.close(r));
    }
  });
});
