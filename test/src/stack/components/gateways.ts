// Two gateway replicas sharing the stack's Redis and Keycloak, started from the built gateway/dist/main.js
// with one generated config file (.stack/data/gateways/gateway.yaml). Both replicas are configured with the
// first replica's URL as publicUrl, as if they sat behind one load balancer: a token or refresh token issued
// through one replica works on the other. Contributes GATEWAY_URLS (base URLs), MCP_URL (first replica's
// single-org MCP URL) and ORG_MCP_URL (the same org at /orgs/stack/mcp).
//
// The MCP-path engineer extends `gatewayConfig` (clusters, workers, exchange) — keep it the one place the
// stack's gateway config is written.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { fileExists, type Component, type StackContext } from '../component.js';

const REPLICAS = 2;
export const STACK_ORG = 'stack';

/** The generated gateway config (a plain object, written as YAML). */
export function gatewayConfig(env: Record<string, string>, opts: { publicUrl: string; encryptionKey: string }): Record<string, unknown> {
  const need = (k: string) => {
    const v = env[k];
    if (!v) throw new Error(`gateways: ${k} must come from an earlier component`);
    return v;
  };
  const issuer = env.KEYCLOAK_ISSUER ?? `${need('KEYCLOAK_URL')}/realms/${need('KEYCLOAK_REALM')}`;
  const workers = (env.WORKER_URLS ?? 'http://127.0.0.1:9/mcp').split(',').filter(Boolean);
  return {
    publicUrl: opts.publicUrl,
    logLevel: 'info',
    singleOrg: STACK_ORG,
    storage: { redis: { url: need('REDIS_URL'), keyPrefix: 'kmg:' } },
    encryptionKeys: [{ id: 'stack-1', key: opts.encryptionKey }],
    // Every suite signs in from 127.0.0.1: the production defaults (20 registrations an hour per address)
    // would make repeated runs fail, so the stack allows far more; unit tests cover the limits themselves.
    rateLimits: {
      register: { points: 10_000, windowSeconds: 3600 },
      authorize: { points: 10_000, windowSeconds: 60 },
      token: { points: 10_000, windowSeconds: 60 },
    },
    orgs: [
      {
        name: STACK_ORG,
        oauth: {
          keycloak: { issuer, clientId: need('GATEWAY_CLIENT_ID'), clientSecret: need('GATEWAY_CLIENT_SECRET'), caFile: need('STACK_CA_FILE') },
          registration: { policy: 'open' },
          // Tests serve client ID metadata documents from 127.0.0.1 with the stack's server certificate.
          clientIdMetadataDocuments: { allowPrivateAddresses: true, caFile: need('STACK_CA_FILE'), cacheSeconds: 5 },
          tokens: { refreshGraceSeconds: 2 },
        },
        exchange: {
          tokenEndpoint: `${issuer}/protocol/openid-connect/token`,
          clientId: need('GATEWAY_CLIENT_ID'),
          clientSecret: need('GATEWAY_CLIENT_SECRET'),
          caFile: need('STACK_CA_FILE'),
        },
        // Keycloak grants the `kubernetes` audience only through its client scope, so the exchange asks for it.
        clusters: [{ name: STACK_ORG, workers, audience: env.KUBE_AUDIENCE ?? 'kubernetes', identity: 'bearer', exchangeScopes: env.KUBE_AUDIENCE_SCOPE ? [env.KUBE_AUDIENCE_SCOPE] : [] }],
      },
    ],
  };
}

async function healthy(base: string): Promise<boolean> {
  const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
  return res.ok;
}

export const gateways: Component = {
  name: 'gateways',
  dependsOn: ['redis', 'keycloak', 'workers'],
  async up(ctx: StackContext): Promise<Record<string, string>> {
    const main = path.join(ctx.paths.repoRoot, 'gateway', 'dist', 'main.js');
    if (!fileExists(main)) ctx.fail(`${main} is missing: run \`npx tsc -b\` first`);
    const ports: number[] = [];
    for (let i = 0; i < REPLICAS; i++) ports.push(await ctx.freePort());
    const bases = ports.map((p) => `http://127.0.0.1:${p}`);
    const file = path.join(ctx.dataDir(), 'gateway.yaml');
    const config = gatewayConfig(ctx.env, { publicUrl: bases[0]!, encryptionKey: randomBytes(32).toString('base64') });
    writeFileSync(file, stringify(config), { mode: 0o600 });
    for (let i = 0; i < REPLICAS; i++) {
      const proc = ctx.spawn(process.execPath, [main, '--config', file, '--port', String(ports[i])], { logName: `gateways-${i + 1}.log` });
      ctx.progress(`replica ${i + 1} starting on ${bases[i]}`);
      await ctx.waitFor(`gateway replica ${i + 1} /healthz`, () => healthy(bases[i]!), { process: proc, timeoutMs: 30_000 });
    }
    return {
      GATEWAY_URLS: bases.join(','),
      GATEWAY_CONFIG_FILE: file,
      MCP_URL: `${bases[0]}/mcp`,
      ORG_MCP_URL: `${bases[0]}/orgs/${STACK_ORG}/mcp`,
    };
  },
  async check(env: Record<string, string>): Promise<void> {
    const urls = (env.GATEWAY_URLS ?? '').split(',').filter(Boolean);
    if (urls.length < REPLICAS) throw new Error('GATEWAY_URLS is missing or short');
    for (const url of urls) if (!(await healthy(url).catch(() => false))) throw new Error(`gateway ${url} is not healthy`);
  },
};
