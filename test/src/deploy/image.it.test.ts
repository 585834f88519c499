// The image's runtime stage without a Docker engine: the Dockerfile's own `deps` stage commands run in a
// scratch directory (production dependencies of shared, worker and gateway only), the built dist/ folders
// are laid out as the runtime stage copies them, and the processes must start from that tree alone —
// proving nothing at run time needs a dev dependency.
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadStackEnv } from '../stack/env.js';
import { repoRoot } from './paths.js';

const run = promisify(execFile);
let app: string;

interface Stage {
  name: string;
  lines: string[];
}

function stages(): Stage[] {
  const logical = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const out: Stage[] = [];
  for (const l of logical) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(l);
    if (from) out.push({ name: from[1] ?? '', lines: [] });
    else out.at(-1)?.lines.push(l);
  }
  return out;
}

beforeAll(async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'kmg-image-'));
  const src = path.join(root, 'src');
  app = path.join(root, 'app');
  const deps = stages().find((s) => s.name === 'deps')!;
  for (const line of deps.lines) {
    if (line.startsWith('COPY ')) {
      const parts = line.slice(5).trim().split(/\s+/).filter((p) => !p.startsWith('--'));
      const dest = path.join(src, parts.at(-1)!);
      for (const p of parts.slice(0, -1)) {
        const target = dest.endsWith('/') || parts.length > 2 ? path.join(dest, path.basename(p)) : dest;
        mkdirSync(path.dirname(target), { recursive: true });
        cpSync(path.join(repoRoot, p), target);
      }
    } else if (line.startsWith('RUN ')) {
      const cmd = line.slice(4).replace(/--mount=\S+/g, '').trim();
      await run('sh', ['-c', cmd], { cwd: src, maxBuffer: 32 * 1024 * 1024, timeout: 600_000 });
    }
  }
  // The runtime stage: node_modules from deps, package.json and dist/ of each workspace from the build.
  cpSync(path.join(src, 'node_modules'), path.join(app, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  cpSync(path.join(repoRoot, 'package.json'), path.join(app, 'package.json'));
  for (const ws of ['shared', 'worker', 'gateway']) {
    cpSync(path.join(repoRoot, ws, 'package.json'), path.join(app, ws, 'package.json'));
    cpSync(path.join(repoRoot, ws, 'dist'), path.join(app, ws, 'dist'), { recursive: true });
  }
}, 900_000);

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(() => r(undefined)));
  return port;
}

describe('the image runtime tree', () => {
  it('holds production dependencies only', () => {
    for (const dev of ['vitest', 'typescript', 'eslint', 'playwright-core', 'tsx']) expect(existsSync(path.join(app, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(path.join(app, 'node_modules', '@kmg', 'gateway', 'dist', 'main.js'))).toBe(true);
  });

  it('starts a worker that becomes ready against the stack apiserver and serves /metrics, then drains on SIGTERM', async () => {
    const env = loadStackEnv();
    const port = await freePort();
    const proc = spawn(process.execPath, [path.join(app, 'worker', 'dist', 'main.js')], {
      cwd: app,
      stdio: 'ignore',
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), KUBE_APISERVER_URL: env.KUBE_APISERVER_URL, KUBE_CA_FILE: env.KUBE_CA_FILE, LOG_LEVEL: 'warn' },
    });
    const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 60_000;
      while ((await fetch(`${base}/readyz`).then((r) => r.status, () => 0)) !== 200) {
        if (Date.now() > deadline) throw new Error('worker from the image tree never became ready');
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(await (await fetch(`${base}/metrics`)).text()).toContain('# TYPE kmg_tool_calls_total counter');
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  });

  it('starts the gateway far enough to validate its config (exit 2 naming the key)', async () => {
    const file = path.join(app, 'bad-gateway.yaml');
    writeFileSync(file, 'publicUrl: https://mcp.example.com\norgs: []\n');
    const err = await run(process.execPath, [path.join(app, 'gateway', 'dist', 'main.js'), '--config', file], { cwd: app }).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain('orgs');
  });
});
