#!/usr/bin/env node
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import { stringify as toYaml } from 'yaml';
import { createLogger } from '@kmg/shared/logger';
import { configSchema, type GatewayConfig } from '../config/schema.js';
import { createKvStore } from '../store/index.js';
import { createApp } from '../app.js';
import { startDevIdp, type DevIdp } from './idp.js';
import { loadDevUsers } from './users.js';
import { DevClusterError, resolveDevCluster, type DevCluster } from './kube.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const LOOPBACK = '127.0.0.1';
const ASSERTION_AUDIENCE = 'kmg-worker';

/** A free loopback port (the OS picks; released before use). */
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, LOOPBACK, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(true));
    s.listen(port, LOOPBACK, () => s.close(() => res(false)));
  });
}

async function waitHealthy(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`worker exited with code ${child.exitCode}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`worker at ${url} did not become healthy in ${timeoutMs / 1000}s`);
}

/** Worker config for the dev cluster: impersonation with the kubeconfig's token, else the kubeconfig itself. */
function workerConfig(cluster: DevCluster, port: number, runDir: string, assertionIssuer: string, publicKeyPem: string): Record<string, unknown> {
  if (cluster.token) {
    const tokenFile = join(runDir, 'kube-token');
    writeFileSync(tokenFile, cluster.token, { mode: 0o600 });
    return {
      host: LOOPBACK,
      port,
      clusters: [
        {
          name: cluster.name,
          server: cluster.server,
          ...(cluster.caFile ? { caFile: cluster.caFile } : {}),
          ...(cluster.caData ? { caData: cluster.caData } : {}),
          insecureSkipTlsVerify: cluster.insecureSkipTlsVerify,
          identity: 'impersonation',
          serviceAccountTokenFile: tokenFile,
        },
      ],
      assertion: { issuer: assertionIssuer, audience: ASSERTION_AUDIENCE, publicKey: publicKeyPem },
    };
  }
  return { host: LOOPBACK, port, clusters: [{ name: cluster.name, identity: 'kubeconfig', kubeconfig: cluster.kubeconfig, context: cluster.context }] };
}

export interface DevRun {
  mcpUrl: string;
  gatewayUrl: string;
  idp: DevIdp;
  workers: ChildProcess[];
  stop(): Promise<void>;
}

/**
 * `npm start`: the gateway and two workers on this machine on embedded defaults — in-memory store,
 * the development identity provider (oidc-provider) with users from gateway/dev/users.yaml, and the
 * cluster of the local stack or the current kubeconfig. Loopback only.
 */
export async function startDev(env: NodeJS.ProcessEnv = process.env): Promise<DevRun> {
  const cluster = resolveDevCluster(repoRoot, env);
  const usersFile = env.KMG_DEV_USERS ?? join(repoRoot, 'gateway', 'dev', 'users.yaml');
  const users = loadDevUsers(usersFile);
  const requested = env.PORT !== undefined ? Number(env.PORT) : 8080;
  if (requested !== 0 && (await portInUse(requested))) {
    throw new DevClusterError(`port ${requested} on ${LOOPBACK} is in use; start with PORT=<another port> npm start`);
  }
  const port = requested === 0 ? await freePort() : requested;
  const gatewayUrl = `http://${LOOPBACK}:${port}`;
  const runDir = mkdtempSync(join(tmpdir(), 'kmg-dev-'));
  mkdirSync(join(runDir, 'logs'));

  const idp = await startDevIdp({ port: await freePort(), users, redirectUris: [`${gatewayUrl}/callback`, `${gatewayUrl}/orgs/dev/callback`] });

  // The key the gateway signs identity assertions with; workers get the public half.
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const keyFile = join(runDir, 'identity-key.pem');
  writeFileSync(keyFile, await exportPKCS8(privateKey), { mode: 0o600 });
  const publicPem = await exportSPKI(publicKey);

  const workers: ChildProcess[] = [];
  const workerUrls: string[] = [];
  const workerMain = join(repoRoot, 'worker', 'dist', 'main.js');
  for (let i = 1; i <= 2; i++) {
    const wport = await freePort();
    const cfgFile = join(runDir, `worker-${i}.yaml`);
    writeFileSync(cfgFile, toYaml(workerConfig(cluster, wport, runDir, gatewayUrl, publicPem)), { mode: 0o600 });
    const log = createWriteStream(join(runDir, 'logs', `worker-${i}.log`));
    // The worker reads PORT/HOST/LOG_LEVEL from its environment over the file: pass only what it needs.
    const childEnv = { PATH: env.PATH ?? '', HOME: env.HOME ?? '', KMG_WORKER_CONFIG: cfgFile, ...(env.KUBECONFIG ? { KUBECONFIG: env.KUBECONFIG } : {}) };
    const child = spawn(process.execPath, [workerMain, '--config', cfgFile], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    workers.push(child);
    workerUrls.push(`http://${LOOPBACK}:${wport}/mcp`);
  }
  const stopWorkers = () => workers.forEach((w) => w.exitCode === null && w.kill('SIGTERM'));
  // Workers never outlive this process, however it ends.
  process.once('exit', stopWorkers);
  try {
    await Promise.all(workerUrls.map((u, i) => waitHealthy(u.replace(/\/mcp$/, '/healthz'), workers[i]!, 30_000)));
  } catch (err) {
    stopWorkers();
    await idp.close();
    throw new Error(`${(err as Error).message}; see ${join(runDir, 'logs')}`);
  }

  const raw = {
    publicUrl: gatewayUrl,
    listen: { host: LOOPBACK, port },
    logLevel: env.LOG_LEVEL ?? 'warn',
    singleOrg: 'dev',
    identityAssertion: { signingKeyFile: keyFile, alg: 'ES256', issuer: gatewayUrl },
    audit: { destination: join(runDir, 'logs', 'audit.jsonl') },
    orgs: [
      {
        name: 'dev',
        oauth: {
          keycloak: { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, allowInsecureHttp: true, scope: 'openid profile email offline_access' },
          registration: { policy: 'open' },
        },
        // Dev users are impersonated under the names gateway/dev/users.yaml gives them (no oidc: prefix).
        clusters: [{ name: cluster.name, workers: workerUrls, identity: cluster.token ? 'impersonation' : 'worker', audience: ASSERTION_AUDIENCE, usernamePrefix: '', groupPrefix: '' }],
      },
    ],
  };
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    stopWorkers();
    await idp.close();
    throw new Error(`dev gateway config invalid (a bug in npm start):\n${parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  const config: GatewayConfig = parsed.data;
  const logger = createLogger('gateway', { level: config.logLevel });
  const store = createKvStore({});
  const { app } = createApp(config, { store, logger });
  const server = await new Promise<import('node:http').Server>((res) => {
    const s = app.listen(port, LOOPBACK, () => res(s));
  });
  server.requestTimeout = 0;

  return {
    mcpUrl: `${gatewayUrl}/mcp`,
    gatewayUrl,
    idp,
    workers,
    stop: async () => {
      stopWorkers();
      server.closeAllConnections();
      await new Promise((r) => server.close(() => r(undefined)));
      await idp.close();
      await store.close();
    },
    ...{ runDir, cluster, usersFile, users },
  } as DevRun;
}

function banner(run: DevRun & { runDir?: string; cluster?: DevCluster; usersFile?: string; users?: { username: string; password: string }[] }): string {
  const claude = { mcpServers: { kubernetes: { command: 'npx', args: ['-y', 'mcp-remote', run.mcpUrl] } } };
  const vscode = { servers: { kubernetes: { type: 'http', url: run.mcpUrl } } };
  const c = run.cluster!;
  return [
    '',
    `kube-mcp-gateway (development) is up.`,
    '',
    `  MCP URL:   ${run.mcpUrl}`,
    `  cluster:   ${c.server} from ${c.source}, context ${c.context}`,
    c.token
      ? `  identity:  workers impersonate the signed-in dev user with your kubeconfig's credentials`
      : `  identity:  your kubeconfig user has no token (client certificate): workers act as that user for every dev user`,
    `  sign in:   ${run.users!.map((u) => `${u.username} / ${u.password}`).join(', ')}  (from ${run.usersFile})`,
    `  logs:      ${run.runDir}/logs (workers, audit.jsonl)`,
    '',
    'Claude Desktop (claude_desktop_config.json):',
    JSON.stringify(claude, null, 2),
    '',
    'VS Code (.vscode/mcp.json):',
    JSON.stringify(vscode, null, 2),
    '',
    `MCP Inspector: npx @modelcontextprotocol/inspector  → Streamable HTTP → ${run.mcpUrl}`,
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  let run: DevRun;
  try {
    run = await startDev();
  } catch (err) {
    process.stderr.write(`npm start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(banner(run));
  const stop = () => void run.stop().finally(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) void main();
