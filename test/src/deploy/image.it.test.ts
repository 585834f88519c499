// The image's runtime stage without a Docker engine: the Dockerfile's own `deps` stage commands run in a
// scratch directory (production dependencies of shared, worker and gateway only), the built dist/ folders
// are laid out as the runtime stage copies them, and the processes must start from that tree alone —
// proving nothing at run time needs a dev dependency.
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../stack/component.js';
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
    // As the build stage leaves it: what the current build emitted (a local dist may also hold stale files
    // of sources since removed or excluded, which a clean image build never has), without maps or build info.
    for (const js of emitted(ws)) {
      mkdirSync(path.dirname(path.join(app, ws, 'dist', js)), { recursive: true });
      cpSync(path.join(repoRoot, ws, 'dist', js), path.join(app, ws, 'dist', js));
    }
  }
  const { stdout } = await run('du', ['-sk', app]);
  const kib = Number(stdout.split(/\s/)[0]);
  const modules = Number((await run('du', ['-sk', path.join(app, 'node_modules')])).stdout.split(/\s/)[0]);
  // Printed, not asserted: what the image adds on top of the Node base image.
  console.log(`image runtime tree: ${(kib / 1024).toFixed(1)} MiB (node_modules ${(modules / 1024).toFixed(1)} MiB, dist ${((kib - modules) / 1024).toFixed(1)} MiB)`);
}, 900_000);

/** The sources of a workspace's last build, from its build info (paths relative to src). */
function builtSources(ws: string): string[] {
  const info = JSON.parse(readFileSync(path.join(repoRoot, ws, 'dist', '.tsbuildinfo'), 'utf8')) as { fileNames: string[] };
  return info.fileNames.filter((f) => f.startsWith('../src/')).map((f) => f.slice('../src/'.length));
}

/** The .js files the last build emitted for a workspace (declarations only for .d.ts sources). */
function emitted(ws: string): string[] {
  return builtSources(ws).filter((f) => !f.endsWith('.d.ts')).map((f) => f.replace(/\.ts$/, '.js'));
}

/** Every file under dir, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}


describe('the image runtime tree', () => {
  it('holds production dependencies only', () => {
    for (const dev of ['vitest', 'typescript', 'eslint', 'playwright-core', 'tsx']) expect(existsSync(path.join(app, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(path.join(app, 'node_modules', '@kmg', 'gateway', 'dist', 'main.js'))).toBe(true);
    // Dependencies nothing at run time imports are not installed for it.
    for (const unused of ['@modelcontextprotocol/sdk', 'supertest', '@modelcontextprotocol/client']) expect(existsSync(path.join(app, 'node_modules', unused)), unused).toBe(false);
  });

  it('builds no test, test helper or development launcher into dist, so none reaches the image', () => {
    for (const ws of ['shared', 'worker', 'gateway']) {
      const sources = builtSources(ws);
      expect(sources.length, `${ws} is built`).toBeGreaterThan(0);
      expect(sources.filter((f) => /\.test\.ts$|(^|\/)testing(\.ts$|\/)|^dev\//.test(f)), `${ws} build`).toEqual([]);
    }
    // Nothing in the runtime tree imports test-only packages either (it would fail to load in the image).
    for (const f of filesUnder(path.join(app, 'gateway', 'dist')).filter((f) => f.endsWith('.js'))) {
      expect(readFileSync(path.join(app, 'gateway', 'dist', f), 'utf8'), f).not.toMatch(/from ['"](supertest|vitest|oidc-provider)['"]/);
    }
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

  it('starts the gateway from that tree: it serves, reaches Redis, and drains on SIGTERM', async () => {
    const env = loadStackEnv();
    const [port, metricsPort] = [await freePort(), await freePort()];
    const file = path.join(app, 'gateway.yaml');
    writeFileSync(file, stringify({
      publicUrl: `http://127.0.0.1:${port}`,
      listen: { host: '127.0.0.1', port },
      logLevel: 'warn',
      storage: { redis: { url: env.REDIS_URL, keyPrefix: `kmg-image-${process.pid}:` } },
      encryptionKeys: [{ id: 'image', key: randomBytes(32).toString('base64') }],
      ops: { metrics: { port: metricsPort } },
      orgs: [{
        name: 'image',
        mode: 'resource-server',
        resourceServer: { issuer: env.KEYCLOAK_ISSUER, audience: [env.GATEWAY_CLIENT_ID], caFile: env.STACK_CA_FILE },
        exchange: { tokenEndpoint: `${env.KEYCLOAK_ISSUER.replace(/\/$/, '')}/protocol/openid-connect/token`, clientId: env.GATEWAY_CLIENT_ID, clientSecret: env.GATEWAY_CLIENT_SECRET, caFile: env.STACK_CA_FILE },
        clusters: [{ name: 'stack', workers: ['http://127.0.0.1:9/mcp'], audience: env.KUBE_AUDIENCE }],
      }],
    }));
    const proc = spawn(process.execPath, [path.join(app, 'gateway', 'dist', 'main.js'), '--config', file], { cwd: app, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' } });
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
    try {
      const deadline = Date.now() + 60_000;
      while ((await fetch(`http://127.0.0.1:${metricsPort}/readyz`).then((r) => r.status, () => 0)) !== 200) {
        if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`gateway from the image tree never became ready: ${stderr}`);
        await new Promise((r) => setTimeout(r, 300));
      }
      const report = (await (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).json()) as { checks: Array<{ name: string; ok: boolean }> };
      expect(report.checks.find((c) => c.name === 'redis')?.ok).toBe(true);
      // The protected resource metadata answers: the OAuth side loaded without any dev dependency.
      expect((await fetch(`http://127.0.0.1:${port}/orgs/image/mcp`, { method: 'POST' })).status).toBe(401);
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  });

  it('refuses a bad gateway config at start from that tree (exit 2 naming the key)', async () => {
    const file = path.join(app, 'bad-gateway.yaml');
    writeFileSync(file, 'publicUrl: https://mcp.example.com\norgs: []\n');
    const err = await run(process.execPath, [path.join(app, 'gateway', 'dist', 'main.js'), '--config', file], { cwd: app }).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain('orgs');
  });
});
