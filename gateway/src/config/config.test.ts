import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../main.js';

function write(yaml: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'kmg-cfg-')), 'gateway.yaml');
  writeFileSync(file, yaml);
  return file;
}

const ORG = `
  - name: acme
    clusters: [{ name: c1, workers: ["http://127.0.0.1:9/mcp"], identity: impersonation }]
    oauth:
      keycloak: { issuer: "https://kc.example/realms/mcp", clientSecret: "\${KC_SECRET}" }`;

describe('gateway config file', () => {
  it('expands ${VAR} from the environment and applies defaults', () => {
    const cfg = loadConfig(write(`publicUrl: https://gw.example/\norgs:${ORG}\n`), { KC_SECRET: 's3cret' });
    expect(cfg.publicUrl).toBe('https://gw.example');
    expect(cfg.orgs[0]!.oauth!.keycloak.clientSecret).toBe('s3cret');
    expect(cfg.orgs[0]!.oauth!.tokens.accessTokenTtlSeconds).toBe(900);
    expect(cfg.orgs[0]!.oauth!.registration.policy).toBe('open');
  });
  it('lists every bad path in one error', () => {
    const file = write(`publicUrl: not-a-url\nstorage: { redis: { url: "http://x" } }\nencryptionKeys: [{ id: k1, key: c2hvcnQ= }]\norgs:${ORG}\n      tokens: { accessTokenTtlSeconds: -1 }\n`);
    let message = '';
    try {
      loadConfig(file, { KC_SECRET: 'x' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('publicUrl');
    expect(message).toContain('storage.redis.url');
    expect(message).toContain('encryptionKeys.0.key: must decode to 32 bytes');
    expect(message).toContain('orgs.0.oauth.tokens.accessTokenTtlSeconds');
  });
  it('names a missing environment variable', () => {
    expect(() => loadConfig(write(`publicUrl: https://gw.example\norgs:${ORG}\n`), {})).toThrow(/KC_SECRET/);
  });
  it('requires encryption keys with Redis storage', () => {
    expect(() => loadConfig(write(`publicUrl: https://gw.example\nstorage: { redis: { url: "redis://127.0.0.1:6379" } }\norgs:${ORG}\n`), { KC_SECRET: 'x' })).toThrow(/encryptionKeys/);
  });
});

describe('identity assertion keys', () => {
  const KEY = 'k1';
  const redis = `storage: { redis: { url: "redis://127.0.0.1:6379" } }\nencryptionKeys: [{ id: ${KEY}, key: "${Buffer.alloc(32, 7).toString('base64')}" }]\n`;
  it('refuses impersonation clusters on shared storage without a signing key file, naming the key to set', () => {
    expect(() => loadConfig(write(`publicUrl: https://gw.example\n${redis}orgs:${ORG}\n`), { KC_SECRET: 'x' })).toThrow(/identityAssertion\.signingKeyFile: .*shared by every replica/);
  });
  it('accepts them with a key file, and a single in-memory gateway without one', () => {
    expect(loadConfig(write(`publicUrl: https://gw.example\n${redis}identityAssertion: { signingKeyFile: /etc/kmg/key.pem }\norgs:${ORG}\n`), { KC_SECRET: 'x' }).identityAssertion.signingKeyFile).toBe('/etc/kmg/key.pem');
    expect(loadConfig(write(`publicUrl: https://gw.example\norgs:${ORG}\n`), { KC_SECRET: 'x' }).storage.redis).toBeUndefined();
  });
  it('requires an https publicUrl except on loopback or with development: true', () => {
    expect(() => loadConfig(write(`publicUrl: http://gw.example\norgs:${ORG}\n`), { KC_SECRET: 'x' })).toThrow(/publicUrl: must be an https/);
    expect(loadConfig(write(`publicUrl: http://127.0.0.1:8080\norgs:${ORG}\n`), { KC_SECRET: 'x' }).publicUrl).toBe('http://127.0.0.1:8080');
    expect(loadConfig(write(`publicUrl: http://gw.example\ndevelopment: true\norgs:${ORG}\n`), { KC_SECRET: 'x' }).development).toBe(true);
  });
  it('rejects at load what the MCP path would refuse at start (cross-field cluster rules)', () => {
    const dup = `
  - name: acme
    clusters: [{ name: c1, workers: ["http://127.0.0.1:9"], identity: impersonation }, { name: c1, workers: ["http://127.0.0.1:10"], identity: impersonation, default: true }, { name: c2, workers: ["http://10.0.0.1:9"], identity: worker, default: true }]
    mode: resource-server`;
    let message = '';
    try {
      loadConfig(write(`publicUrl: https://gw.example\norgs:${dup}\n`), {});
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('orgs.0.clusters.1.name: duplicate cluster name "c1"');
    expect(message).toContain('orgs.0.clusters.2.identity');
    expect(message).toContain('orgs.0.clusters: at most one cluster may be default');
    expect(message).toContain('orgs.0.resourceServer');
  });
});
