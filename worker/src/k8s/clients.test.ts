import { describe, expect, it } from 'vitest';
import { parseWorkerConfig } from '../config.js';
import { ClientFactory } from './clients.js';
import { ToolRefusal } from './errors.js';

describe('ClientFactory', () => {
  const config = parseWorkerConfig({
    clusters: [{ name: 'imp', server: 'https://127.0.0.1:6443', identity: 'impersonation', serviceAccountTokenFile: '/nonexistent' }],
    assertion: { issuer: 'https://gw.test', audience: 'w', publicKey: '{"kty":"EC"}' },
  });

  it('never builds clients that impersonate a system: user or group, however the identity was made', () => {
    const factory = new ClientFactory(config.clusters);
    expect(() => factory.forIdentity('imp', { kind: 'impersonation', user: 'system:admin', groups: [] })).toThrow(ToolRefusal);
    expect(() => factory.forIdentity('imp', { kind: 'impersonation', user: 'oidc:alice', groups: ['System:Masters'] })).toThrow(/never impersonated/);
    expect(factory.forIdentity('imp', { kind: 'impersonation', user: 'oidc:alice', groups: ['oidc:devs'] }).cluster).toBe('imp');
  });
});
