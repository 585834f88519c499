// What a stack component is, and the context `up` hands it: paths, the env so far, and helpers to
// spawn tracked processes (own process group, pid recorded in .stack/pids, output in .stack/logs/<name>.log),
// run one-shot commands, wait for readiness and pick free loopback ports.
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface StackPaths {
  repoRoot: string;
  /** `$XDG_CACHE_HOME/kube-mcp-gateway` or `~/.cache/kube-mcp-gateway`: downloads and builds, keyed by version. */
  cacheDir: string;
  /** `<repo>/.stack`: env file, pids, logs, per-run data. */
  runDir: string;
  logsDir: string;
  dataDir: string;
  pidsFile: string;
}

export interface Component {
  name: string;
  /** Components whose env this one reads; restarting one of them restarts this one too. */
  dependsOn?: string[];
  /** Starts the component and returns the env vars it contributes to `.stack/env`. */
  up(ctx: StackContext): Promise<Record<string, string>>;
  /** Throws (with a reason) when the component described by `env` is not healthy. */
  check(env: Record<string, string>): Promise<void>;
}

export interface TrackedProcess {
  component: string;
  pid: number;
  logFile: string;
  /** Set once the process has exited (exit code or signal name). */
  exit: string | undefined;
}

export interface SpawnOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Log file name under .stack/logs (default `<component>.log`). */
  logName?: string;
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Fail fast when this process exits while waiting. */
  process?: TrackedProcess;
}

export class ComponentError extends Error {
  constructor(readonly component: string, message: string, readonly logFile?: string, opts?: { cause?: unknown }) {
    super(`${component}: ${message}${logFile ? ` (log: ${logFile})` : ''}`, opts);
    this.name = 'ComponentError';
  }
}

export function cacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME && process.env.XDG_CACHE_HOME !== ''
    ? process.env.XDG_CACHE_HOME
    : path.join(os.homedir(), '.cache');
  return path.join(base, 'kube-mcp-gateway');
}

/** `runDir` defaults to `<repo>/.stack`; `npm start`'s built-in cluster keeps its own elsewhere. */
export function stackPaths(repoRoot: string, runDir = path.join(repoRoot, '.stack')): StackPaths {
  return {
    repoRoot,
    cacheDir: cacheRoot(),
    runDir,
    logsDir: path.join(runDir, 'logs'),
    dataDir: path.join(runDir, 'data'),
    pidsFile: path.join(runDir, 'pids'),
  };
}

/** Start time of a pid in clock ticks since boot (field 22 of /proc/<pid>/stat), to tell a reused pid apart. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after the closing paren are space-separated.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const reservedPorts = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A free TCP port on 127.0.0.1 not handed out before by this process; `preferred` when it is free. */
export async function freePort(preferred?: number): Promise<number> {
  if (preferred && !reservedPorts.has(preferred) && (await canListen(preferred))) {
    reservedPorts.add(preferred);
    return preferred;
  }
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.unref();
      srv.on('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
      });
    });
    if (!reservedPorts.has(port)) {
      reservedPorts.add(port);
      return port;
    }
  }
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    sock.setTimeout(1000);
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('timeout', () => { sock.destroy(); resolve(false); });
    sock.once('error', () => resolve(false));
  });
}

export class StackContext {
  /** Env vars contributed by the components started (or reused) before this one. */
  readonly env: Record<string, string>;
  readonly processes: TrackedProcess[] = [];

  constructor(
    readonly paths: StackPaths,
    readonly component: string,
    env: Record<string, string>,
    private readonly report: (line: string) => void,
    /** What this component contributed last time (to keep its ports stable across restarts). */
    readonly previous: Record<string, string> = {},
  ) {
    this.env = { ...env };
    mkdirSync(paths.logsDir, { recursive: true });
    mkdirSync(paths.dataDir, { recursive: true });
  }

  get logFile(): string {
    return path.join(this.paths.logsDir, `${this.component}.log`);
  }

  /** Per-run data directory `.stack/data/<component>` (removed by `down`). */
  dataDir(sub = this.component): string {
    const dir = path.join(this.paths.dataDir, sub);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** Cache directory `<cache>/<parts...>` (kept across runs). */
  cacheDir(...parts: string[]): string {
    const dir = path.join(this.paths.cacheDir, ...parts);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  progress(message: string): void {
    this.report(`${this.component}: ${message}`);
  }

  fail(message: string, cause?: unknown): never {
    throw new ComponentError(this.component, message, this.logFile, { cause });
  }

  /** A free loopback port; the port of `previous[key]` (a URL or a number) when that one is still free. */
  freePort(previousKey?: string): Promise<number> {
    const prev = previousKey ? this.previous[previousKey] : undefined;
    let preferred: number | undefined;
    if (prev) preferred = /^\d+$/.test(prev) ? Number(prev) : Number(URL.canParse(prev) ? new URL(prev).port : '') || undefined;
    return freePort(preferred);
  }

  /** Starts a long-running process in its own process group; its pid goes to .stack/pids. */
  spawn(command: string, args: string[], opts: SpawnOptions = {}): TrackedProcess {
    const logFile = path.join(this.paths.logsDir, opts.logName ?? `${this.component}.log`);
    appendFileSync(logFile, `\n=== ${new Date().toISOString()} ${command} ${args.join(' ')}\n`);
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawnChild(command, args, {
        cwd: opts.cwd ?? this.paths.repoRoot,
        env: { ...process.env, ...opts.env },
        detached: true, // own process group: `down` kills the whole group
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) this.fail(`could not start ${command}`);
    const tracked: TrackedProcess = { component: this.component, pid: child.pid, logFile, exit: undefined };
    child.on('exit', (code, signal) => { tracked.exit = signal ?? String(code); });
    child.on('error', (err) => { tracked.exit = err.message; });
    child.unref();
    appendFileSync(this.paths.pidsFile, `${this.component} ${child.pid} ${processStartTime(child.pid) ?? '-'}\n`);
    this.processes.push(tracked);
    return tracked;
  }

  /** Runs a command to completion with its output in the component's log; throws naming the log on failure. */
  async run(command: string, args: string[], opts: SpawnOptions = {}): Promise<void> {
    const logFile = path.join(this.paths.logsDir, opts.logName ?? `${this.component}.log`);
    appendFileSync(logFile, `\n=== ${new Date().toISOString()} ${command} ${args.join(' ')}\n`);
    const fd = openSync(logFile, 'a');
    try {
      await new Promise<void>((resolve, reject) => {
        const child = spawnChild(command, args, {
          cwd: opts.cwd ?? this.paths.repoRoot,
          env: { ...process.env, ...opts.env },
          stdio: ['ignore', fd, fd],
        });
        child.on('error', reject);
        child.on('exit', (code, signal) =>
          code === 0 ? resolve() : reject(new Error(`${command} exited with ${signal ?? code}`)));
      });
    } catch (err) {
      throw new ComponentError(this.component, (err as Error).message, logFile, { cause: err });
    } finally {
      closeSync(fd);
    }
  }

  /** Polls `check` until it returns true; fails on timeout or when the watched process exits. */
  async waitFor(what: string, check: () => Promise<boolean>, opts: WaitOptions = {}): Promise<void> {
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    const interval = opts.intervalMs ?? 250;
    for (;;) {
      if (opts.process?.exit !== undefined) {
        throw new ComponentError(this.component, `exited (${opts.process.exit}) before ${what}`, opts.process.logFile);
      }
      try {
        if (await check()) return;
      } catch {
        // not ready yet
      }
      if (Date.now() > deadline) {
        throw new ComponentError(this.component, `timed out waiting for ${what}`, opts.process?.logFile ?? this.logFile);
      }
      await sleep(interval);
    }
  }
}

export function fileExists(p: string): boolean {
  return existsSync(p);
}
