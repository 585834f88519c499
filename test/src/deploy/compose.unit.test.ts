import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { composeDir, composeFile, realmFile, repoRoot } from './paths.js';

const run = promisify(execFile);
// Child processes (docker-compose, keytool's JVM) are slow on a busy machine.
vi.setConfig({ testTimeout: 60_000 });

interface ComposeService {
  image?: string;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | null>;
  volumes?: Array<string | { type: string; source: string; target: string }>;
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }> | string[];
  ports?: unknown[];
  restart?: string;
  read_only?: boolean;
  networks?: Record<string, { aliases?: string[] } | null>;
}
interface ComposeModel {
  services: Record<string, ComposeService>;
}

/** The compose file as docker compose resolves it (anchors merged, variables interpolated with their defaults). */
let model: ComposeModel;

beforeAll(async () => {
  // Debian's docker-compose (installed by .ci/run); it parses and validates without a Docker engine.
  const { stdout } = await run('docker-compose', ['-f', composeFile, 'config'], { cwd: repoRoot, env: { ...process.env, COMPOSE_PROJECT_NAME: 'kmg' } });
  model = parseYaml(stdout) as ComposeModel;
}, 60_000);

const envOf = (svc: ComposeService): Record<string, string> =>
  Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, v ?? '']));

const bindSources = (svc: ComposeService): string[] =>
  (svc.volumes ?? []).flatMap((v) => {
    if (typeof v === 'string') {
      const src = v.split(':')[0]!;
      return src.startsWith('/') || src.startsWith('.') ? [src] : [];
    }
    return v.type === 'bind' ? [v.source] : [];
  });

describe('compose.yaml', () => {
  it('validates with docker compose config', async () => {
    await expect(run('docker-compose', ['-f', composeFile, 'config', '-q'], { cwd: repoRoot })).resolves.toBeDefined();
  }, 60_000);

  it('runs Redis with the append-only file on', () => {
    const redis = model.services.redis!;
    expect(redis.command).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    expect(bindSources(redis)).toEqual([]);
  });

  it('imports the project realm into Keycloak in dev mode, the same file the local stack uses', () => {
    const kc = model.services.keycloak!;
    expect(kc.command).toEqual(expect.arrayContaining(['start-dev', '--import-realm']));
    const realmMount = (kc.volumes ?? []).find((v) => typeof v === 'string' && v.endsWith(':/opt/keycloak/data/import/mcp-realm.json:ro'));
    expect(realmMount).toBe(`${path.join(repoRoot, 'deploy/keycloak/mcp-realm.json')}:/opt/keycloak/data/import/mcp-realm.json:ro`);
    // Browsers and containers reach Keycloak by one name, so tokens carry one issuer.
    expect(kc.networks?.default?.aliases).toContain('keycloak.localhost');
  });

  it('has two gateway and two worker replicas behind one URL', () => {
    const names = Object.keys(model.services);
    expect(names.filter((n) => /^gateway-\d$/.test(n))).toHaveLength(2);
    expect(names.filter((n) => /^worker-\d$/.test(n))).toHaveLength(2);
    const nginx = readFileSync(path.join(composeDir, 'nginx.conf'), 'utf8');
    expect(nginx).toMatch(/server gateway-1:8080/);
    expect(nginx).toMatch(/server gateway-2:8080/);
    // SSE must pass through unbuffered and not be cut after the default 60 s.
    expect(nginx).toMatch(/proxy_buffering off;/);
    expect(nginx).toMatch(/proxy_read_timeout 3600s;/);
    expect(model.services.lb?.ports).toHaveLength(1);
  });

  it('gives every long-running service a health check and waits on health, not on start', () => {
    for (const [name, svc] of Object.entries(model.services)) {
      if (svc.restart === 'no') continue; // one-shot init services
      expect(svc.healthcheck, `${name} has a healthcheck`).toBeDefined();
      for (const [dep, cond] of Object.entries(svc.depends_on ?? {})) {
        const target = model.services[dep]!;
        const expected = target.restart === 'no' ? 'service_completed_successfully' : 'service_healthy';
        expect(`${name} -> ${dep}: ${(cond as { condition: string }).condition}`).toBe(`${name} -> ${dep}: ${expected}`);
      }
    }
  });

  it('runs the product containers read-only, without capabilities, from one image', () => {
    const product = Object.entries(model.services).filter(([n]) => /^(gateway|worker)-\d$/.test(n));
    const images = new Set(product.map(([, s]) => s.image));
    expect(images.size).toBe(1);
    for (const [name, svc] of product) {
      expect(svc.read_only, name).toBe(true);
      expect((svc as { cap_drop?: string[] }).cap_drop, name).toEqual(['ALL']);
    }
    expect(JSON.stringify(model.services['worker-1']!.command)).toContain('worker');
    expect(JSON.stringify(model.services['gateway-1']!.entrypoint)).toContain('kmg gateway');
  });

  it('mounts only files that exist in the repository', () => {
    for (const [name, svc] of Object.entries(model.services)) {
      for (const src of bindSources(svc)) {
        expect(existsSync(src), `${name} mounts ${src}`).toBe(true);
      }
    }
  });

  it('publishes ports on loopback only', () => {
    for (const [name, svc] of Object.entries(model.services)) {
      for (const p of svc.ports ?? []) {
        const host = typeof p === 'string' ? p.split(':')[0] : (p as { host_ip?: string }).host_ip;
        expect(host, `${name} port ${JSON.stringify(p)}`).toBe('127.0.0.1');
      }
    }
  });
});

describe('compose init scripts', () => {
  it('creates the gateway keys once and keeps them on the next run', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kmg-secrets-'));
    await run(process.execPath, [path.join(composeDir, 'init-secrets.mjs'), dir]);
    const key = readFileSync(path.join(dir, 'encryption-key'), 'utf8');
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    expect(readFileSync(path.join(dir, 'identity-signing-key.pem'), 'utf8')).toContain('BEGIN PRIVATE KEY');
    const second = await run(process.execPath, [path.join(composeDir, 'init-secrets.mjs'), dir]);
    expect(second.stdout).toContain('kept');
    expect(readFileSync(path.join(dir, 'encryption-key'), 'utf8')).toBe(key);
  }, 30_000);

  it('makes a Keycloak certificate a Node client trusts for keycloak.localhost, and an apiserver config trusting it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kmg-kc-tls-'));
    const password = 'test-keystore-pass';
    await run('bash', [path.join(composeDir, 'init-keycloak-tls.sh'), dir], {
      env: { ...process.env, KMG_KEYCLOAK_TLS_STORE_PASSWORD: password, KEYCLOAK_ISSUER: 'https://keycloak.localhost:8443/realms/mcp' },
    });
    const ca = readFileSync(path.join(dir, 'keycloak-tls.crt'), 'utf8');
    // Serve TLS with the generated keystore (as Keycloak will) and connect as the gateway does: custom CA, hostname checked.
    const server = createHttpsServer({ pfx: readFileSync(path.join(dir, 'keycloak-tls.p12')), passphrase: password }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const { request } = await import('node:https');
      const body = await new Promise<string>((resolve, reject) => {
        request({ host: '127.0.0.1', port, servername: 'keycloak.localhost', headers: { host: 'keycloak.localhost' }, ca, path: '/' }, (res) => {
          let b = '';
          res.on('data', (c: Buffer) => (b += c.toString()));
          res.on('end', () => resolve(b));
        }).on('error', reject).end();
      });
      expect(body).toBe('ok');
    } finally {
      server.close();
    }
    const authn = parseYaml(readFileSync(path.join(dir, 'k3s-authentication.yaml'), 'utf8')) as {
      apiVersion: string;
      kind: string;
      jwt: Array<{ issuer: { url: string; audiences: string[]; certificateAuthority: string }; claimMappings: unknown }>;
    };
    expect(authn.kind).toBe('AuthenticationConfiguration');
    expect(authn.jwt[0]!.issuer).toEqual({ url: 'https://keycloak.localhost:8443/realms/mcp', audiences: ['kubernetes'], certificateAuthority: ca });
    // In step with the local stack's kube-apiserver: same API version, audience and claim mappings.
    const { authenticationConfig } = await import('../stack/components/kube-apiserver.js');
    const stack = parseYaml(authenticationConfig({ KEYCLOAK_ISSUER: 'https://x/realms/mcp', STACK_CA_FILE: path.join(dir, 'keycloak-tls.crt') })) as typeof authn;
    expect(authn.apiVersion).toBe(stack.apiVersion);
    expect(authn.jwt[0]!.issuer.audiences).toEqual(stack.jwt[0]!.issuer.audiences);
    expect(authn.jwt[0]!.claimMappings).toEqual(stack.jwt[0]!.claimMappings);
    expect(authn.jwt[0]!.claimMappings).toEqual({ username: { claim: 'preferred_username', prefix: 'oidc:' }, groups: { claim: 'groups', prefix: 'oidc:' } });
  }, 120_000); // keytool starts a JVM twice
});

describe('compose configuration files', () => {
  it('worker.yaml passes the worker schema and points at the k3s service', async () => {
    const { loadWorkerConfig } = await import('@kmg/worker/config');
    const cfg = loadWorkerConfig(['--config', path.join(composeDir, 'worker.yaml')], {});
    expect(cfg.clusters.map((c) => [c.name, c.server, c.identity])).toEqual([['k3s', 'https://k3s:6443', 'bearer']]);
    expect(cfg.host).toBe('0.0.0.0');
    expect(model.services.k3s).toBeDefined();
  });

  it('gateway.yaml passes the gateway schema with the environment compose gives it', async () => {
    const { loadConfig } = await import('@kmg/gateway/main');
    const gw = model.services['gateway-1']!;
    const env = { ...envOf(gw), KMG_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') };
    const cfg = loadConfig(path.join(composeDir, 'gateway.yaml'), env);
    expect(cfg.publicUrl).toBe('http://localhost:8080');
    expect(cfg.listen.host).toBe('0.0.0.0');
    expect(cfg.storage.redis?.url).toBe('redis://redis:6379');
    // Every worker URL names a compose service, and the Keycloak issuer is the alias browsers and containers share.
    const org = cfg.orgs[0]!;
    for (const cluster of org.clusters) {
      const workers = Array.isArray(cluster.workers) ? cluster.workers : [cluster.workers];
      for (const w of workers) expect(Object.keys(model.services)).toContain(new URL(w).hostname);
    }
    expect(new URL(org.oauth!.keycloak.issuer).hostname).toBe('keycloak.localhost');
    // Same exchange shape as the local stack's gateways (test/src/stack/components/gateways.ts).
    const { gatewayConfig } = await import('../stack/components/gateways.js');
    const stackOrg = (gatewayConfig(
      { REDIS_URL: 'redis://x:6379', KEYCLOAK_ISSUER: 'https://kc/realms/mcp', GATEWAY_CLIENT_ID: 'mcp-gateway', GATEWAY_CLIENT_SECRET: 's', STACK_CA_FILE: '/ca', KUBE_AUDIENCE: 'kubernetes', KUBE_AUDIENCE_SCOPE: 'kubernetes' },
      { publicUrl: 'http://127.0.0.1:1', encryptionKey: 'k' },
    ).orgs as Array<{ clusters: Array<Record<string, unknown>> }>)[0]!;
    const stackCluster = stackOrg.clusters[0]!;
    const composeCluster = org.clusters[0]!;
    for (const key of ['audience', 'identity', 'exchangeScopes'] as const) expect(composeCluster[key], key).toEqual(stackCluster[key]);
    expect(cfg.singleOrg).toBeDefined();
    // The client secret compose gives the gateway is the one the imported realm defines.
    const realm = JSON.parse(readFileSync(realmFile, 'utf8')) as { clients: Array<{ clientId: string; secret?: string }> };
    expect(gw.environment?.KMG_KEYCLOAK_CLIENT_SECRET).toBe(realm.clients.find((c) => c.clientId === 'mcp-gateway')?.secret);
  });
});
