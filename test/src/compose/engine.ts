// The container engine: uses a running Docker engine when there is one; otherwise installs Debian's
// docker.io (when dockerd is missing) and starts dockerd in the background. No registry serves images
// here and the sandbox has no iptables, so dockerd runs without iptables rules and without the default
// bridge: compose's own networks (user-defined bridges) and loopback-published ports still work.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cacheRoot } from '../stack/component.js';
import { run, sleep, type Report } from './run.js';

export const engineDir = path.join(cacheRoot(), 'engine');
export const dockerdLog = path.join(engineDir, 'dockerd.log');
const pidFile = path.join(engineDir, 'dockerd.pid');

export const DOCKERD_ARGS = ['--iptables=false', '--ip6tables=false', '--bridge=none', '--host=unix:///var/run/docker.sock'];

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = path.join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

let cli: string | undefined;

/**
 * The CLI for what this host has now. The fallback to a plain `docker` is not final while Debian's CLI is
 * missing: ensureEngine may install docker.io later (in this process or another test file's), and a
 * buildx-less static `docker` remembered from before that cannot build.
 */
export function chooseDockerCli(host: { buildx: boolean; debianCli: boolean }): { choice: string; final: boolean } {
  if (host.buildx) return { choice: 'docker', final: true };
  if (host.debianCli) return { choice: '/usr/bin/docker', final: true };
  return { choice: 'docker', final: false };
}
/**
 * The docker CLI to use: `docker` when it can build with BuildKit (buildx present), else Debian's
 * /usr/bin/docker, whose built-in BuildKit client needs no buildx (a newer static CLI may shadow it on PATH).
 */
export function dockerBin(): string {
  if (cli) return cli;
  if (process.env.KMG_DOCKER) return (cli = process.env.KMG_DOCKER);
  const { choice, final } = chooseDockerCli({
    buildx: spawnSync('docker', ['buildx', 'version'], { stdio: 'ignore' }).status === 0,
    debianCli: existsSync('/usr/bin/docker'),
  });
  if (final) cli = choice;
  return choice;
}

/** The engine's server version, or undefined when no engine answers. */
export async function engineVersion(): Promise<string | undefined> {
  if (!which('docker')) return undefined;
  const res = await run(dockerBin(), ['version', '--format', '{{.Server.Version}}'], { allowFailure: true, timeoutMs: 20_000 });
  return res.code === 0 ? res.stdout.trim() : undefined;
}

async function aptInstall(report: Report, packages: string[], logFile: string): Promise<void> {
  report(`engine: installing ${packages.join(' ')} with apt-get (log: ${logFile})`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  const first = await run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env, logFile, allowFailure: true });
  if (first.code === 0) return;
  await run('apt-get', ['update'], { env, logFile });
  await run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env, logFile });
}

/** Installs the Debian tools the image builds need (mmdebstrap) when missing. */
export async function ensureHostTools(report: Report): Promise<void> {
  const missing = [['mmdebstrap', 'mmdebstrap']].filter(([bin]) => !which(bin!)).map(([, pkg]) => pkg!);
  if (missing.length > 0) await aptInstall(report, missing, path.join(engineDir, 'apt.log'));
}

/** Makes sure a Docker engine answers on the default socket; returns its version. */
export async function ensureEngine(report: Report): Promise<string> {
  mkdirSync(engineDir, { recursive: true });
  const running = await engineVersion();
  if (running) {
    report(`engine: Docker ${running} is running`);
    return running;
  }
  const t = Date.now();
  if (!which('dockerd') || !which('docker')) await aptInstall(report, ['docker.io'], path.join(engineDir, 'apt.log'));
  report(`engine: starting dockerd ${DOCKERD_ARGS.join(' ')} (log: ${dockerdLog})`);
  const fd = openSync(dockerdLog, 'a');
  const child = spawn(which('dockerd')!, DOCKERD_ARGS, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  writeFileSync(pidFile, String(child.pid));
  let exited: number | null = null;
  child.on('exit', (code) => { exited = code ?? 1; });
  for (let i = 0; i < 120; i++) {
    const v = await engineVersion();
    if (v) {
      report(`engine: Docker ${v} up in ${((Date.now() - t) / 1000).toFixed(1)}s`);
      return v;
    }
    if (exited !== null) break;
    await sleep(500);
  }
  const tail = existsSync(dockerdLog) ? readFileSync(dockerdLog, 'utf8').trim().split('\n').slice(-10).join('\n') : '';
  throw new Error(`dockerd did not come up (log: ${dockerdLog})\n${tail}`);
}
