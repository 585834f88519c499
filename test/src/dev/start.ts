#!/usr/bin/env node
// `npm start`: the gateway (in this process) and two workers on this machine, on embedded defaults: in-memory
// store, the development identity provider with the users of test/dev/users.yaml, and either the current
// kubeconfig context or, without one, a built-in local cluster. Every dev user acts as itself on the cluster
// (the gateway signs identity assertions, the workers impersonate). Loopback only; development only: this
// lives beside the test stack it reuses and never ships in the gateway's image.
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import { createLogger } from '@kmg/shared/logger';
import { createApp } from '@kmg/gateway/app';
import { configSchema } from '@kmg/gateway/config/schema';
import { createKvStore } from '@kmg/gateway/store/index';
import type { KvStore } from '@kmg/gateway/store/kv';
import { freePort, stackPaths, type Component } from '../stack/component.js';
import { repoRoot } from '../stack/env.js';
import { down, up } from '../stack/stack.js';
import { checkClusterAccess, type ClusterAccess } from './access.js';
import { banner } from './banner.js';
import { BUILTIN_VERSIONS, builtinClusterComponents } from './builtin-cluster.js';
import { startDevIdp, type DevIdp } from './idp.js';
import { AlreadyRunningError, claimInstance, type InstanceClaim } from './instance.js';
import { chooseDevCluster, DevClusterError } from './kubeconfig.js';
import { listenOrExplain, PortInUseError } from './port.js';
import { loadDevUsers } from './users.js';
import { ASSERTION_AUDIENCE, devWorkers } from './workers.js';

const LOOPBACK = '127.0.0.1';
/** Everything of one run: instance record, pids, logs, cluster data, keys (under .gitignore). */
export const devDir = path.join(repoRoot, '.dev');
/** Between SIGTERM and SIGKILL per component on the way out: all of it must fit in the 5 s promised. */
const STOP_GRACE_MS = 1500;

interface Running {
  instance?: InstanceClaim;
  server?: http.Server;
  idp?: DevIdp;
  store?: KvStore;
}

const secs = (t0: number) => ((Date.now() - t0) / 1000).toFixed(1).padStart(5);

async function start(env: NodeJS.ProcessEnv, run: Running, t0: number): Promise<string> {
  const report = (line: string) => process.stderr.write(`[${secs(t0)}s] ${line}\n`);
  const usersFile = env.KMG_DEV_USERS ?? path.join(repoRoot, 'test', 'dev', 'users.yaml');
  const users = loadDevUsers(usersFile);

  run.instance = claimInstance(devDir);
  // Processes a killed run left behind (recorded with their start times, so only ours are stopped).
  await down({ repoRoot, runDir: devDir, withoutLock: true, graceMs: STOP_GRACE_MS, report: () => undefined });

  const requested = env.PORT !== undefined && env.PORT !== '' ? Number(env.PORT) : 8080;
  if (!Number.isInteger(requested) || requested < 0 || requested > 65535) throw new DevClusterError(`PORT=${env.PORT} is not a port number`);
  // Listen first: a port in use fails in a second, not after the cluster is up. Requests wait for the app.
  run.server = http.createServer();
  const port = await listenOrExplain(run.server, requested, LOOPBACK);
  const gatewayUrl = `http://${LOOPBACK}:${port}`;
  const mcpUrl = `${gatewayUrl}/mcp`;
  const starting = (_req: http.IncomingMessage, res: http.ServerResponse) => res.writeHead(503, { 'retry-after': '2' }).end('npm start is still starting\n');
  run.server.on('request', starting);

  const choice = chooseDevCluster(env, os.homedir());
  let access: ClusterAccess | undefined;
  const clusterComponents: Component[] = [];
  if (choice.kind === 'builtin') {
    report(`cluster: ${choice.reason}; starting the built-in local cluster (${BUILTIN_VERSIONS})`);
    clusterComponents.push(...builtinClusterComponents(users));
  } else {
    report(`cluster: ${choice.server}, context ${choice.context} of ${choice.file}; asking it what user ${choice.user} may do`);
    access = await checkClusterAccess(choice.file, choice.context, users);
  }

  const idp = (run.idp = await startDevIdp({ port: await freePort(), users, redirectUris: [`${gatewayUrl}/callback`, `${gatewayUrl}/orgs/dev/callback`] }));

  // The gateway signs identity assertions with this key; workers get the public half.
  const gatewayDir = path.join(stackPaths(repoRoot, devDir).dataDir, 'gateway');
  mkdirSync(gatewayDir, { recursive: true });
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const keyFile = path.join(gatewayDir, 'identity-key.pem');
  writeFileSync(keyFile, await exportPKCS8(privateKey), { mode: 0o600 });

  const impersonate = choice.kind === 'builtin' || access!.impersonate;
  const clusterName = choice.kind === 'builtin' ? 'builtin' : 'local';
  const logLevel = env.LOG_LEVEL ?? 'warn';
  const workers = devWorkers({
    replicas: 2,
    clusterName,
    ...(choice.kind === 'kubeconfig' ? { kubeconfig: choice.file, context: choice.context } : {}),
    identity: impersonate ? 'impersonation' : 'kubeconfig',
    assertion: { issuer: gatewayUrl, publicKeyPem: await exportSPKI(publicKey) },
    logLevel,
  });
  const { env: stackEnv } = await up({ repoRoot, runDir: devDir, components: [...clusterComponents, workers], report });

  const logsDir = stackPaths(repoRoot, devDir).logsDir;
  const parsed = configSchema.safeParse({
    publicUrl: gatewayUrl,
    listen: { host: LOOPBACK, port },
    logLevel,
    singleOrg: 'dev',
    identityAssertion: { signingKeyFile: keyFile, alg: 'ES256', issuer: gatewayUrl },
    audit: { destination: path.join(logsDir, 'audit.jsonl') },
    orgs: [
      {
        name: 'dev',
        oauth: {
          keycloak: { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, allowInsecureHttp: true, scope: 'openid profile email offline_access' },
          registration: { policy: 'open' },
        },
        // Dev users are impersonated under the names test/dev/users.yaml gives them (no oidc: prefix): the
        // built-in cluster binds them by those names, and the banner's grant commands use them.
        clusters: [
          {
            name: clusterName,
            workers: stackEnv.WORKER_URLS!.split(','),
            identity: impersonate ? 'impersonation' : 'worker',
            audience: ASSERTION_AUDIENCE,
            ...(impersonate ? { usernamePrefix: '', groupPrefix: '' } : {}),
          },
        ],
      },
    ],
  });
  if (!parsed.success) throw new Error(`dev gateway config invalid (a bug in npm start): ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const store = (run.store = createKvStore({}));
  const { app } = createApp(parsed.data, { store, logger: createLogger('gateway', { level: parsed.data.logLevel }) });
  run.server.requestTimeout = 0;
  run.server.off('request', starting);
  run.server.on('request', app);
  run.instance.setMcpUrl(mcpUrl);

  return banner({
    mcpUrl,
    startedInSeconds: (Date.now() - t0) / 1000,
    choice,
    server: choice.kind === 'builtin' ? stackEnv.KUBE_APISERVER_URL! : choice.server,
    ...(choice.kind === 'builtin' ? { builtin: { versions: BUILTIN_VERSIONS, adminKubeconfig: stackEnv.KUBECONFIG_ADMIN! } } : {}),
    ...(access ? { access } : {}),
    users,
    usersFile,
    logsDir,
  });
}

/** Stops the workers and the built-in cluster (exactly the recorded process groups), then the gateway and IdP. */
async function stop(run: Running): Promise<void> {
  run.server?.closeAllConnections();
  const closed = run.server?.listening ? new Promise((r) => run.server!.close(() => r(undefined))) : Promise.resolve();
  // Only a run that claimed the checkout owns what .dev records (else it may be another npm start's).
  if (run.instance) await down({ repoRoot, runDir: devDir, withoutLock: true, graceMs: STOP_GRACE_MS, report: () => undefined });
  await Promise.allSettled([closed, run.idp?.close(), run.store?.close()]);
  run.instance?.release();
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const run: Running = {};
  let stopping: Promise<void> | undefined;
  const exit = (code: number) => {
    // However the stop goes, this process is gone well within 5 s.
    setTimeout(() => process.exit(code), 4500).unref();
    stopping ??= stop(run).finally(() => process.exit(code));
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => exit(0));
  // npm (our parent) killed outright: do not outlive it.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && exit(0), 1000).unref();
  try {
    process.stdout.write(await start(process.env, run, t0));
  } catch (err) {
    const known = err instanceof DevClusterError || err instanceof PortInUseError || err instanceof AlreadyRunningError;
    process.stderr.write(`npm start: ${known ? (err as Error).message : ((err as Error).stack ?? String(err))}\n`);
    exit(1);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) void main();
