// The orchestration contract with throwaway components in a temp repo root: idempotent `up`, restarts
// that follow dependencies, failures that stop what the run started, and `down` that leaves no process.
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Component } from './component.js';
import { formatEnvFile, parseEnvFile } from './env.js';
import { down, status, up } from './stack.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let root: string;
const quiet = () => undefined;
const pidsOf = () => readFileSync(path.join(root, '.stack', 'pids'), 'utf8').trim().split('\n').map((l) => Number(l.split(' ')[1]));

function sleeper(name: string, dependsOn: string[] = [], starts: string[] = [], spawned: number[] = []): Component {
  return {
    name,
    dependsOn,
    async up(ctx) {
      starts.push(name);
      const proc = ctx.spawn('sleep', ['1000']);
      spawned.push(proc.pid);
      return { [`${name.toUpperCase()}_PID`]: String(proc.pid) };
    },
    async check(env) {
      const pid = Number(env[`${name.toUpperCase()}_PID`]);
      if (!alive(pid)) throw new Error(`${name} is gone`);
    },
  };
}

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'kmg-stack-'));
});

afterEach(async () => {
  await down({ repoRoot: root, components: [], report: quiet });
  rmSync(root, { recursive: true, force: true });
});

describe('stack env file', () => {
  it('round-trips values with quotes and spaces through the shell format', () => {
    const vars = { A: "it's here", B: 'a b=c', C: '' };
    expect(parseEnvFile(formatEnvFile(vars))).toEqual(vars);
  });
});

describe('stack up/down', () => {
  it('reuses healthy components on a second up and starts nothing twice', async () => {
    const starts: string[] = [];
    const components = [sleeper('a', [], starts), sleeper('b', ['a'], starts)];
    const first = await up({ repoRoot: root, components, report: quiet });
    expect(first.started).toEqual(['a', 'b']);
    const second = await up({ repoRoot: root, components, report: quiet });
    expect(second.started).toEqual([]);
    expect(starts).toEqual(['a', 'b']);
    expect(parseEnvFile(readFileSync(path.join(root, '.stack', 'env'), 'utf8'))).toEqual(first.env);
  });

  it('restarts a component and its dependents, stopping the old processes', async () => {
    const components = [sleeper('a'), sleeper('b', ['a']), sleeper('c')];
    const first = await up({ repoRoot: root, components, report: quiet });
    const again = await up({ repoRoot: root, components, report: quiet, restart: ['a'] });
    expect(again.started).toEqual(['a', 'b']);
    expect(alive(Number(first.env.A_PID))).toBe(false);
    expect(alive(Number(first.env.B_PID))).toBe(false);
    expect(again.env.C_PID).toBe(first.env.C_PID);
  });

  it('stops what the failing run started, names the component and writes no env file', async () => {
    const broken: Component = { name: 'broken', up: async (ctx) => ctx.fail('cannot start'), check: async () => undefined };
    const spawned: number[] = [];
    const components = [sleeper('a', [], [], spawned), broken];
    await expect(up({ repoRoot: root, components, report: quiet })).rejects.toMatchObject({ component: 'broken' });
    expect(spawned).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 50)); // let the worker reap the child
    expect(alive(spawned[0]!)).toBe(false);
    expect(existsSync(path.join(root, '.stack', 'env'))).toBe(false);
  });

  it('down stops every recorded process and status then reports nothing running', async () => {
    const components = [sleeper('a'), sleeper('b')];
    await up({ repoRoot: root, components, report: quiet });
    const pids = pidsOf();
    expect(pids.every(alive)).toBe(true);
    await down({ repoRoot: root, components, report: quiet });
    expect(pids.some(alive)).toBe(false);
    expect((await status({ repoRoot: root, components })).every((s) => !s.healthy)).toBe(true);
  });
});
