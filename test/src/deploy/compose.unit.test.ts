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
  // A user's plain shell: the integration setup exports the stack's variables (KEYCLOAK_ADMIN_USER among them) into
  // this process, and compose.yaml would take them as overrides.
  const { stdout } = await run('docker-compose', ['-f', composeFile, 'config'], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', COMPOSE_PROJECT_NAME: 'kmg' } });
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
    // Both replicas answer to one alias, re-resolved every few seconds (a restarted replica may get a new address).
    expect(nginx).toMatch(/proxy_pass http:\/\/\$gateways:8080;/);
    expect(nginx).toMatch(/resolver 127\.0\.0\.11 valid=2s/);
    for (const g of ['gateway-1', 'gateway-2']) expect(model.services[g]!.networks?.default?.aliases, g).toEqual(['gateway']);
    // SSE must pass through unbuffered and not be cut after the default 60 s.
    expect(nginx).toMatch(/proxy_buffering off;/);
    expect(nginx).toMatch(/proxy_read_timeout 3600s;/);
    expect(model.services.lb?.ports).toHaveLength(1);
  });

  // The cluster services run the upstream Kubernetes images, which have no shell or client to probe with;
  // cluster-init waits for the apiserver's /readyz and everything that uses the cluster waits for it.
  const clusterServices = ['etcd', 'kube-apiserver', 'kwok'];

  it('gives every long-running service a health check and waits on health, not on start', () => {
    for (const [name, svc] of Object.entries(model.services)) {
      if (svc.restart === 'no') continue; // one-shot init services
      if (!clusterServices.includes(name)) expect(svc.healthcheck, `${name} has a healthcheck`).toBeDefined();
      for (const [dep, cond] of Object.entries(svc.depends_on ?? {})) {
        const target = model.services[dep]!;
        const expected = target.restart === 'no' ? 'service_completed_successfully' : clusterServices.includes(dep) ? 'service_started' : 'service_healthy';
        expect(`${name} -> ${dep}: ${(cond as { condition: string }).condition}`).toBe(`${name} -> ${dep}: ${expected}`);
      }
    }
    // Only cluster-init and the cluster itself may start on a cluster service that is merely started.
    for (const [name, svc] of Object.entries(model.services)) {
      const onCluster = Object.keys(svc.depends_on ?? {}).filter((d) => clusterServices.includes(d));
      if (onCluster.length) expect(['kube-apiserver', 'cluster-init'], `${name} depends on ${onCluster.join(',')}`).toContain(name);
    }
    for (const name of ['worker-1', 'worker-2', 'kwok']) {
      expect((model.services[name]!.depends_on as Record<string, { condition: string }>)['cluster-init']?.condition).toBe('service_completed_successfully');
    }
  });

  it('starts the load balancer only once both gateways are ready (readiness, not liveness)', () => {
    const lb = model.services.lb!.depends_on as Record<string, { condition: string }>;
    expect(lb).toEqual({ 'gateway-1': { condition: 'service_healthy' }, 'gateway-2': { condition: 'service_healthy' } });
    for (const g of ['gateway-1', 'gateway-2']) expect(JSON.stringify(model.services[g]!.healthcheck!.test)).toContain('/readyz');
  });

  it('never runs Keycloak with a default admin password: it is generated and read from Keycloak\'s own secrets', () => {
    const kc = model.services.keycloak!;
    const env = envOf(kc);
    expect(env.KC_BOOTSTRAP_ADMIN_PASSWORD).toBeUndefined();
    expect(env.KC_BOOTSTRAP_ADMIN_USERNAME).not.toBe('admin');
    // (Compose v1 prints the escaped `$$` as written, v2 unescapes it.)
    expect(JSON.stringify(kc.entrypoint)).toMatch(/KC_BOOTSTRAP_ADMIN_PASSWORD=\$\$?\(cat \/secrets\/admin-password\)/);
    expect(JSON.stringify(kc)).not.toMatch(/admin\/admin|PASSWORD:-admin/);
  });

  it('mounts into each container only the secrets volume of that container', () => {
    const secretVolumes = (svc: ComposeService) => (svc.volumes ?? []).flatMap((v) => {
      const src = typeof v === 'string' ? v.split(':')[0]! : v.source;
      return /secrets$|-tls$/.test(src) && !src.startsWith('.') && !src.startsWith('/') ? [src] : [];
    }).sort();
    const mounts = Object.fromEntries(Object.entries(model.services).map(([n, s]) => [n, secretVolumes(s)]));
    expect(mounts).toEqual({
      'init-secrets': ['apiserver-secrets', 'cluster-admin-secrets', 'gateway-secrets', 'keycloak-secrets', 'worker-secrets'],
      'init-keycloak-tls': ['apiserver-secrets', 'gateway-secrets', 'keycloak-secrets'],
      redis: [], etcd: [], lb: [],
      keycloak: ['keycloak-secrets'],
      'kube-apiserver': ['apiserver-secrets', 'apiserver-tls'],
      'cluster-init': ['apiserver-tls', 'cluster-admin-secrets', 'worker-secrets'],
      kwok: ['cluster-admin-secrets'],
      'worker-1': ['worker-secrets'], 'worker-2': ['worker-secrets'],
      'gateway-1': ['gateway-secrets'], 'gateway-2': ['gateway-secrets'],
    });
    // Long-running consumers only read them.
    for (const n of ['keycloak', 'kwok', 'worker-1', 'worker-2', 'gateway-1', 'gateway-2']) {
      for (const v of model.services[n]!.volumes ?? []) {
        if (typeof v === 'string' && /secrets:/.test(v)) expect(v, n).toMatch(/:ro$/);
        if (typeof v !== 'string' && /secrets$/.test(v.source)) expect((v as { read_only?: boolean }).read_only, `${n} ${v.source}`).toBe(true);
      }
    }
  });

  it('seeds the compose cluster like the local stack', async () => {
    const { renderSeedFile, seedFile } = await import('../compose/seed-file.js');
    expect(readFileSync(seedFile, 'utf8')).toBe(renderSeedFile());
  });

  it('creates every kind of object in the seed: cluster-init knows the resource of each', async () => {
    const { composeSeed } = await import('../compose/seed-file.js');
    const script = readFileSync(path.join(repoRoot, 'deploy', 'compose', 'cluster-init.mjs'), 'utf8');
    const known = new Set([...(/const plural = \{([^}]*)\}/.exec(script)?.[1] ?? '').matchAll(/(\w+): '/g)].map((m) => m[1]));
    const kinds = new Set((composeSeed() as Array<{ kind: string }>).map((o) => o.kind));
    expect([...kinds].filter((k) => !known.has(k))).toEqual([]);
    expect(kinds.has('ClusterRole')).toBe(true);
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
  it('creates every key once, each in its consumer\'s folder only, and keeps them on the next run', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kmg-secrets-'));
    await run(process.execPath, [path.join(composeDir, 'init-secrets.mjs'), dir]);
    const key = readFileSync(path.join(dir, 'gateway', 'encryption-key'), 'utf8');
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    expect(readFileSync(path.join(dir, 'gateway', 'identity-signing-key.pem'), 'utf8')).toContain('BEGIN PRIVATE KEY');
    const { readdirSync } = await import('node:fs');
    const files = Object.fromEntries(['gateway', 'worker', 'keycloak', 'apiserver', 'cluster-admin'].map((d) => [d, readdirSync(path.join(dir, d)).sort()]));
    expect(files).toEqual({
      gateway: ['encryption-key', 'identity-signing-key.pem'],
      worker: [],
      keycloak: ['admin-password'],
      apiserver: ['admin-tokens.csv', 'sa.key', 'sa.pub'],
      'cluster-admin': ['admin-token'],
    });
    const adminPassword = readFileSync(path.join(dir, 'keycloak', 'admin-password'), 'utf8');
    expect(adminPassword.length).toBeGreaterThanOrEqual(20);
    expect(adminPassword).not.toBe('admin');
    // The apiserver knows the token the seed job and kwok present, in system:masters.
    const token = readFileSync(path.join(dir, 'cluster-admin', 'admin-token'), 'utf8');
    expect(readFileSync(path.join(dir, 'apiserver', 'admin-tokens.csv'), 'utf8')).toBe(`${token},kmg-cluster-admin,kmg-cluster-admin,"system:masters"\n`);
    const second = await run(process.execPath, [path.join(composeDir, 'init-secrets.mjs'), dir]);
    expect(second.stdout).toContain('kept');
    expect(readFileSync(path.join(dir, 'gateway', 'encryption-key'), 'utf8')).toBe(key);
    expect(readFileSync(path.join(dir, 'cluster-admin', 'admin-token'), 'utf8')).toBe(token);
    expect(readFileSync(path.join(dir, 'keycloak', 'admin-password'), 'utf8')).toBe(adminPassword);
  }, 30_000);

  it('makes a Keycloak certificate a Node client trusts for keycloak.localhost, and an apiserver config trusting it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kmg-kc-tls-'));
    const password = 'test-keystore-pass';
    await run('bash', [path.join(composeDir, 'init-keycloak-tls.sh'), dir], {
      env: { ...process.env, KMG_KEYCLOAK_TLS_STORE_PASSWORD: password, KEYCLOAK_ISSUER: 'https://keycloak.localhost:8443/realms/mcp' },
    });
    const ca = readFileSync(path.join(dir, 'gateway', 'keycloak-tls.crt'), 'utf8');
    // Serve TLS with the generated keystore (as Keycloak will) and connect as the gateway does: custom CA, hostname checked.
    const server = createHttpsServer({ pfx: readFileSync(path.join(dir, 'keycloak', 'keycloak-tls.p12')), passphrase: password }, (_req, res) => res.end('ok'));
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
    const authn = parseYaml(readFileSync(path.join(dir, 'apiserver', 'authentication.yaml'), 'utf8')) as {
      apiVersion: string;
      kind: string;
      jwt: Array<{ issuer: { url: string; audiences: string[]; certificateAuthority: string }; claimMappings: unknown }>;
    };
    expect(authn.kind).toBe('AuthenticationConfiguration');
    expect(authn.jwt[0]!.issuer).toEqual({ url: 'https://keycloak.localhost:8443/realms/mcp', audiences: ['kubernetes'], certificateAuthority: ca });
    // In step with the local stack's kube-apiserver: same API version, audience and claim mappings.
    const { authenticationConfig } = await import('../stack/components/kube-apiserver.js');
    const stack = parseYaml(authenticationConfig({ KEYCLOAK_ISSUER: 'https://x/realms/mcp', STACK_CA_FILE: path.join(dir, 'gateway', 'keycloak-tls.crt') })) as typeof authn;
    expect(authn.apiVersion).toBe(stack.apiVersion);
    expect(authn.jwt[0]!.issuer.audiences).toEqual(stack.jwt[0]!.issuer.audiences);
    expect(authn.jwt[0]!.claimMappings).toEqual(stack.jwt[0]!.claimMappings);
    expect(authn.jwt[0]!.claimMappings).toEqual({ username: { claim: 'preferred_username', prefix: 'oidc:' }, groups: { claim: 'groups', prefix: 'oidc:' } });
  }, 120_000); // keytool starts a JVM twice
});

describe('compose configuration files', () => {
  it('worker.yaml passes the worker schema and points at the compose apiserver by the name its certificate holds', async () => {
    const { loadWorkerConfig } = await import('@kmg/worker/config');
    const cfg = loadWorkerConfig(['--config', path.join(composeDir, 'worker.yaml')], {});
    expect(cfg.clusters.map((c) => [c.name, c.server, c.identity])).toEqual([['compose', 'https://kubernetes:6443', 'bearer']]);
    expect(cfg.host).toBe('0.0.0.0');
    // kube-apiserver's self-signed certificate names `kubernetes`; the service carries that alias.
    expect(model.services['kube-apiserver']!.networks?.default?.aliases).toContain('kubernetes');
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
