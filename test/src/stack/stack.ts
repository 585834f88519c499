// Orchestrates the components: `up` (idempotent, per component), `down` (exactly the recorded pids),
// `status`. Shared by the CLI and the vitest global setup.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ComponentError, StackContext, processStartTime, stackPaths, type StackPaths } from './component.js';
import { components as registry } from './components/index.js';
import type { Component } from './component.js';
import { formatEnvFile, repoRoot as defaultRepoRoot } from './env.js';

export interface StackOptions {
  repoRoot?: string;
  /** Where env, state, pids, logs and data live (default `<repo>/.stack`). */
  runDir?: string;
  components?: Component[];
  /** Progress lines (default: stderr). */
  report?: (line: string) => void;
}

interface ComponentState {
  env: Record<string, string>;
  startedAt: string;
}
type State = Record<string, ComponentState>;

interface PidRecord {
  component: string;
  pid: number;
  startTime: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function resolve(opts: StackOptions) {
  const paths = stackPaths(opts.repoRoot ?? defaultRepoRoot, opts.runDir);
  mkdirSync(paths.runDir, { recursive: true });
  return {
    paths,
    components: opts.components ?? registry,
    report: opts.report ?? ((line: string) => process.stderr.write(`${line}\n`)),
    stateFile: path.join(paths.runDir, 'state.json'),
    envFile: path.join(paths.runDir, 'env'),
  };
}

function readState(file: string): State {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as State;
  } catch {
    return {};
  }
}

function readPids(paths: StackPaths): PidRecord[] {
  if (!existsSync(paths.pidsFile)) return [];
  return readFileSync(paths.pidsFile, 'utf8')
    .split('\n')
    .map((l) => l.trim().split(' '))
    .filter((p) => p.length === 3 && /^\d+$/.test(p[1] ?? ''))
    .map(([component, pid, startTime]) => ({ component: component!, pid: Number(pid), startTime: startTime! }));
}

function writePids(paths: StackPaths, records: PidRecord[]): void {
  writeFileSync(paths.pidsFile, records.map((r) => `${r.component} ${r.pid} ${r.startTime}\n`).join(''));
}

/** Still the process we started (same pid and same start time)? */
function isOurs(r: PidRecord): boolean {
  const now = processStartTime(r.pid);
  return now !== undefined && (r.startTime === '-' || now === r.startTime);
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops process groups we recorded: SIGTERM, then SIGKILL after a grace period. */
async function stopRecords(records: PidRecord[], report: (l: string) => void, graceMs = 10_000): Promise<void> {
  const ours = records.filter(isOurs);
  for (const r of ours) {
    try { process.kill(-r.pid, 'SIGTERM'); } catch { /* already gone */ }
  }
  const deadline = Date.now() + graceMs;
  while (ours.some((r) => groupAlive(r.pid)) && Date.now() < deadline) await sleep(100);
  for (const r of ours.filter((x) => groupAlive(x.pid))) {
    report(`${r.component}: pid ${r.pid} ignored SIGTERM, killing`);
    try { process.kill(-r.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  while (ours.some((r) => groupAlive(r.pid)) && Date.now() < deadline + 5_000) await sleep(100);
}

/** A cross-process lock (mkdir is atomic) so concurrent `up`/`down` calls queue instead of racing. */
async function withLock<T>(paths: StackPaths, report: (l: string) => void, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(paths.runDir, 'lock');
  const owner = path.join(lock, 'owner');
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(owner, `${process.pid} ${processStartTime(process.pid) ?? '-'}`);
      break;
    } catch {
      let stale = false;
      try {
        const [pid, start] = readFileSync(owner, 'utf8').split(' ');
        stale = !isOurs({ component: 'lock', pid: Number(pid), startTime: start ?? '-' });
      } catch {
        // owner not written yet, or lock without owner: stale when old
        try { stale = Date.now() - statSync(lock).mtimeMs > 10_000; } catch { stale = false; }
      }
      if (stale) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (!announced) {
        report('stack: another `up`/`down` is running; waiting for it');
        announced = true;
      }
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface UpResult {
  env: Record<string, string>;
  /** Components this call started (the rest were reused). */
  started: string[];
}

export interface UpOptions extends StackOptions {
  /** Components to restart even when healthy (their dependents restart too). */
  restart?: string[];
}

/** Brings every component up, reusing healthy ones; on failure stops what this call started and throws. */
export async function up(opts: UpOptions = {}): Promise<UpResult> {
  const { paths, components, report, stateFile, envFile } = resolve(opts);
  return withLock(paths, report, async () => {
    const t0 = Date.now();
    const state = readState(stateFile);
    const restarted = new Set<string>(opts.restart ?? []);
    const started: string[] = [];
    const startedPids: PidRecord[] = [];
    let env: Record<string, string> = {};
    try {
      for (const c of components) {
        const t = Date.now();
        const forced = restarted.has(c.name) || (c.dependsOn ?? []).some((d) => restarted.has(d));
        const previous = state[c.name];
        const previousEnv = previous?.env ?? {};
        if (previous && !forced) {
          try {
            await c.check({ ...env, ...previous.env });
            Object.assign(env, previous.env);
            report(`${c.name}: reused (healthy)`);
            continue;
          } catch (err) {
            report(`${c.name}: not healthy (${(err as Error).message}); restarting`);
          }
        }
        // Stop whatever an earlier run left for this component before starting it again.
        const all = readPids(paths);
        await stopRecords(all.filter((r) => r.component === c.name), report);
        writePids(paths, all.filter((r) => r.component !== c.name));
        delete state[c.name];
        writeFileSync(stateFile, JSON.stringify(state, null, 2));
        rmSync(path.join(paths.dataDir, c.name), { recursive: true, force: true });

        report(`${c.name}: starting`);
        const ctx = new StackContext(paths, c.name, env, (line) => report(`${line} (+${secs(t)})`), previousEnv);
        let contributed: Record<string, string>;
        try {
          contributed = await c.up(ctx);
          await c.check({ ...env, ...contributed });
        } catch (err) {
          if (err instanceof ComponentError) throw err;
          throw new ComponentError(c.name, (err as Error).message, ctx.logFile, { cause: err });
        } finally {
          startedPids.push(...readPids(paths).filter((r) => r.component === c.name && !startedPids.some((s) => s.pid === r.pid)));
        }
        restarted.add(c.name);
        started.push(c.name);
        state[c.name] = { env: contributed, startedAt: new Date().toISOString() };
        writeFileSync(stateFile, JSON.stringify(state, null, 2));
        env = { ...env, ...contributed };
        report(`${c.name}: up in ${secs(t)}`);
      }
    } catch (err) {
      report(`stack: ${(err as Error).message}`);
      report(`stack: stopping what this run started (${started.concat(startedPids.map((p) => p.component)).filter(uniq).join(', ') || 'nothing'})`);
      await stopRecords(startedPids, report);
      const left = readPids(paths).filter((r) => !startedPids.some((s) => s.pid === r.pid));
      writePids(paths, left);
      for (const name of started) delete state[name];
      writeFileSync(stateFile, JSON.stringify(state, null, 2));
      rmSync(envFile, { force: true });
      throw err;
    }
    writeFileSync(envFile, formatEnvFile(env));
    report(`stack: up in ${secs(t0)}; env in ${envFile}`);
    return { env, started };
  });
}

const uniq = <T>(v: T, i: number, a: T[]) => a.indexOf(v) === i;
const secs = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)}s`;

export interface DownOptions extends StackOptions {
  /** How long each component gets between SIGTERM and SIGKILL (default 10 s). */
  graceMs?: number;
  /**
   * Skip the `up`/`down` lock: for a process stopping its own run while its `up` may still hold the lock
   * (npm start on Ctrl-C during startup). The pid records still name exactly what to stop.
   */
  withoutLock?: boolean;
}

/** Stops every recorded process group and removes env, state, pids and per-run data (logs stay). */
export async function down(opts: DownOptions = {}): Promise<void> {
  const { paths, report, stateFile, envFile } = resolve(opts);
  const stopAll = async () => {
    rmSync(envFile, { force: true });
    // Last started first, one component at a time: the apiserver exits promptly while etcd is still there.
    const records = readPids(paths).reverse();
    for (const name of records.map((r) => r.component).filter(uniq)) {
      await stopRecords(records.filter((r) => r.component === name), report, opts.graceMs);
      report(`${name}: stopped`);
    }
    rmSync(paths.pidsFile, { force: true });
    rmSync(stateFile, { force: true });
    rmSync(paths.dataDir, { recursive: true, force: true });
    report('stack: down');
  };
  await (opts.withoutLock ? stopAll() : withLock(paths, report, stopAll));
}

export interface ComponentStatus {
  name: string;
  healthy: boolean;
  detail: string;
}

/** Health of each registered component according to its own check. */
export async function status(opts: StackOptions = {}): Promise<ComponentStatus[]> {
  const { components, stateFile, envFile } = resolve(opts);
  const state = readState(stateFile);
  const out: ComponentStatus[] = [];
  const env: Record<string, string> = {};
  for (const c of components) {
    const s = state[c.name];
    if (!s) {
      out.push({ name: c.name, healthy: false, detail: 'not started' });
      continue;
    }
    Object.assign(env, s.env);
    try {
      await c.check({ ...env });
      out.push({ name: c.name, healthy: true, detail: `up since ${s.startedAt}` });
    } catch (err) {
      out.push({ name: c.name, healthy: false, detail: (err as Error).message });
    }
  }
  if (!existsSync(envFile)) out.push({ name: 'env', healthy: false, detail: `${envFile} missing` });
  return out;
}

export async function isHealthy(opts: StackOptions = {}): Promise<boolean> {
  return (await status(opts)).every((s) => s.healthy);
}
