// `npm run compose -- up | down | status`: the committed compose.yaml, run for real on this machine.
// up: engine (started when none runs) -> images under the references compose.yaml names -> `compose up
// --wait` -> .compose/env. down: removes the project's containers, networks and volumes.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { cacheRoot } from '../stack/component.js';
import { formatEnvFile, parseEnvFile, repoRoot } from '../stack/env.js';
import { dockerBin, ensureEngine, ensureHostTools, engineVersion } from './engine.js';
import { ensureBaseImages, ensureProductImage } from './images.js';
import { run, sleep, type Report } from './run.js';

export const composeFile = path.join(repoRoot, 'compose.yaml');
export const composeRunDir = path.join(repoRoot, '.compose');
export const composeEnvFile = path.join(composeRunDir, 'env');
export const PROJECT = process.env.KMG_COMPOSE_PROJECT ?? 'kmg-compose';
export const COMPOSE_V2_VERSION = 'v2.40.3';
const logFile = (name: string) => path.join(composeRunDir, 'logs', `${name}.log`);

const composeV2Dir = path.join(cacheRoot(), 'compose', COMPOSE_V2_VERSION);
const composeV2Bin = path.join(composeV2Dir, 'bin', 'docker-compose');

/** The compose CLI: Compose v2 built from its Go module (cached) when present, else Debian's docker-compose (v1). */
export function composeCli(): { bin: string; v2: boolean } {
  if (existsSync(composeV2Bin) && process.env.KMG_COMPOSE_V1 !== '1') return { bin: composeV2Bin, v2: true };
  return { bin: 'docker-compose', v2: false };
}

/** Builds Compose v2 once into the cache when Go is there (minutes on 2 cores); without Go, v1 is used. */
export async function ensureComposeV2(report: Report): Promise<void> {
  if (existsSync(composeV2Bin) || process.env.KMG_COMPOSE_V1 === '1') return;
  if ((await run('go', ['version'], { allowFailure: true }).catch(() => ({ code: 1 }))).code !== 0) {
    report('compose: no Go toolchain: using Debian\'s docker-compose (v1) and waiting on health checks itself');
    return;
  }
  const t = Date.now();
  report(`compose: building Docker Compose ${COMPOSE_V2_VERSION} from its Go module into ${composeV2Dir} (once; minutes on 2 cores)`);
  await run(path.join(repoRoot, 'test', 'scripts', 'build-compose.sh'), [COMPOSE_V2_VERSION, composeV2Dir], { logFile: logFile('build-compose'), cwd: cacheRoot() });
  report(`compose: built Docker Compose in ${((Date.now() - t) / 1000).toFixed(0)}s`);
}

export function compose(args: string[], opts: { logName?: string; allowFailure?: boolean; env?: Record<string, string> } = {}) {
  const { bin } = composeCli();
  return run(bin, ['-p', PROJECT, '-f', composeFile, ...args], {
    cwd: repoRoot, logFile: logFile(opts.logName ?? 'compose'), allowFailure: opts.allowFailure,
    env: { DOCKER_HOST: process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock', ...opts.env },
  });
}

const containerSchema = z.object({
  Name: z.string(),
  State: z.object({
    Status: z.string(), ExitCode: z.number(),
    Health: z.object({ Status: z.string() }).optional().nullable(),
  }),
  Config: z.object({ Labels: z.record(z.string(), z.string()).nullable() }),
  HostConfig: z.object({ RestartPolicy: z.object({ Name: z.string() }) }),
});
export type ContainerState = z.infer<typeof containerSchema>;

/** Every container of the compose project, as docker inspect reports it. */
export async function projectContainers(): Promise<ContainerState[]> {
  const ids = (await run(dockerBin(), ['ps', '-aq', '--filter', `label=com.docker.compose.project=${PROJECT}`])).stdout.split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const res = await run(dockerBin(), ['inspect', ...ids]);
  return z.array(containerSchema).parse(JSON.parse(res.stdout));
}

export interface ServiceStatus { service: string; ok: boolean; detail: string }

/** One line per container: one-shots must have exited 0, the rest run and (where they have one) pass their health check. */
export function serviceStatus(c: ContainerState): ServiceStatus {
  const service = c.Config.Labels?.['com.docker.compose.service'] ?? c.Name.replace(/^\//, '');
  const oneShot = c.HostConfig.RestartPolicy.Name === 'no' || c.HostConfig.RestartPolicy.Name === '';
  if (oneShot && c.State.Status === 'exited') return { service, ok: c.State.ExitCode === 0, detail: `completed (exit ${c.State.ExitCode})` };
  const health = c.State.Health?.Status;
  if (c.State.Status !== 'running') return { service, ok: false, detail: `${c.State.Status} (exit ${c.State.ExitCode})` };
  return { service, ok: health === undefined || health === 'healthy', detail: health ? `running, ${health}` : 'running' };
}

/** `up --wait` for Compose v1, which lacks it: poll until every container is healthy/completed, fail on an exit. */
async function waitHealthy(report: Report, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const states = (await projectContainers()).map(serviceStatus);
    const failed = states.find((s) => !s.ok && /exited|dead|exit [1-9]/.test(s.detail) && !/running/.test(s.detail));
    if (failed) throw new Error(`compose: ${failed.service} ${failed.detail} (docker logs ${PROJECT}-${failed.service}-1)`);
    const pending = states.filter((s) => !s.ok).map((s) => s.service);
    if (states.length > 0 && pending.length === 0) return;
    const line = `waiting for ${pending.join(', ')}`;
    if (line !== last) report(`compose: ${line}`);
    last = line;
    if (Date.now() > deadline) throw new Error(`compose: not healthy after ${timeoutMs / 1000}s: ${pending.join(', ')}`);
    await sleep(2000);
  }
}

async function readFromService(service: string, file: string): Promise<string> {
  return (await compose(['exec', '-T', service, 'cat', file], { logName: 'exec' })).stdout;
}

function realmPasswords(): Record<string, string> {
  const realm = JSON.parse(readFileSync(path.join(repoRoot, 'deploy', 'keycloak', 'mcp-realm.json'), 'utf8')) as {
    users?: { username: string; credentials?: { value?: string }[] }[];
  };
  const out: Record<string, string> = {};
  for (const u of realm.users ?? []) {
    const pw = u.credentials?.[0]?.value;
    if (pw && ['alice', 'bob', 'carol'].includes(u.username)) out[`${u.username.toUpperCase()}_PASSWORD`] = pw;
  }
  return out;
}

export async function composeUp(report: Report): Promise<Record<string, string>> {
  const t0 = Date.now();
  mkdirSync(path.join(composeRunDir, 'logs'), { recursive: true });
  await ensureEngine(report);
  await ensureHostTools(report);
  await ensureComposeV2(report);
  const hashes = await ensureBaseImages(report, logFile('images'));
  await ensureProductImage(report, repoRoot, hashes, logFile('images'));
  const cli = composeCli();
  report(`compose: ${cli.v2 ? 'docker compose (v2)' : 'docker-compose (v1)'} up ${cli.v2 ? '--wait ' : ''}(log: ${logFile('compose')})`);
  const t = Date.now();
  await compose(['up', '-d', ...(cli.v2 ? ['--wait', '--wait-timeout', '600'] : [])]);
  if (!cli.v2) await waitHealthy(report, 600_000);
  report(`compose: every service healthy in ${((Date.now() - t) / 1000).toFixed(0)}s`);
  const caFile = path.join(composeRunDir, 'keycloak-ca.crt');
  writeFileSync(caFile, await readFromService('gateway-1', '/secrets/keycloak-tls.crt'));
  const env: Record<string, string> = {
    COMPOSE_PROJECT_NAME: PROJECT,
    MCP_URL: 'http://localhost:8080/mcp',
    GATEWAY_URL: 'http://localhost:8080',
    KEYCLOAK_URL: 'https://keycloak.localhost:8443',
    KEYCLOAK_ISSUER: 'https://keycloak.localhost:8443/realms/mcp',
    KEYCLOAK_CA_FILE: caFile,
    KEYCLOAK_ADMIN_USER: 'kmg-admin',
    KEYCLOAK_ADMIN_PASSWORD: (await readFromService('keycloak', '/secrets/admin-password')).trim(),
    KUBE_APISERVER_URL: 'https://localhost:6443',
    USERS: 'alice,bob,carol',
    ...realmPasswords(),
  };
  writeFileSync(composeEnvFile, formatEnvFile(env).replace(/^# written by .*\n/, '# written by `npm run compose -- up`\n'));
  report(`compose: up in ${((Date.now() - t0) / 1000).toFixed(1)}s; env in ${composeEnvFile}`);
  return env;
}

export async function composeDown(report: Report): Promise<void> {
  if (!(await engineVersion())) {
    report('compose: no container engine is running; nothing to remove');
    return;
  }
  const t = Date.now();
  await compose(['down', '--volumes', '--remove-orphans', '--timeout', '45']);
  rmSync(composeEnvFile, { force: true });
  rmSync(path.join(composeRunDir, 'keycloak-ca.crt'), { force: true });
  report(`compose: down in ${((Date.now() - t) / 1000).toFixed(1)}s (containers, networks and volumes of ${PROJECT} removed)`);
}

export async function composeStatus(): Promise<ServiceStatus[]> {
  if (!(await engineVersion())) return [{ service: 'engine', ok: false, detail: 'no container engine is running' }];
  const states = (await projectContainers()).map(serviceStatus).sort((a, b) => a.service.localeCompare(b.service));
  return states.length ? states : [{ service: PROJECT, ok: false, detail: 'no containers (run `npm run compose -- up`)' }];
}

export function loadComposeEnv(file = composeEnvFile): Record<string, string> {
  return parseEnvFile(readFileSync(file, 'utf8'));
}
