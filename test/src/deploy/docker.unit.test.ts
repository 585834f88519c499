import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './paths.js';

const run = promisify(execFile);

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** A small Dockerfile reader: joins continuation lines, drops comments, splits stages at FROM. */
function readDockerfile(text: string): Stage[] {
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args)!;
      stages.push({ from: m[1]!, ...(m[2] ? { name: m[2] } : {}), instructions: [] });
    } else if (stages.length) stages.at(-1)!.instructions.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

const dockerfileText = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
const dockerfile = readDockerfile(dockerfileText);
const runtime = dockerfile.at(-1)!;
const ignore = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

/** True when .dockerignore keeps `rel` out of the build context (prefix and `**` patterns as used there). */
function ignored(rel: string): boolean {
  return ignore.some((pattern) => {
    const re = new RegExp(`^${pattern.replace(/\./g, '\\.').replace(/\*\*\//g, '\0').replace(/\*/g, '[^/]*').replace(/\0/g, '(.*/)?')}(/.*)?$`);
    return re.test(rel);
  });
}

describe('Dockerfile', () => {
  it('builds in stages on one Node LTS slim base, pinned by digest through a build argument', () => {
    expect(dockerfile.length).toBeGreaterThanOrEqual(3);
    const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfileText)?.[1] ?? '';
    const [, major, digest] = /^node:(\d+)-bookworm-slim@sha256:([0-9a-f]+)$/.exec(image) ?? [];
    expect(digest, `NODE_IMAGE=${image} names a sha256 digest`).toHaveLength(64);
    // Even major versions are the LTS lines.
    expect(Number(major) % 2).toBe(0);
    expect(Number(major)).toBeGreaterThanOrEqual(20);
    for (const stage of dockerfile) expect(stage.from).toBe('${NODE_IMAGE}');
  });

  it('installs exactly the lock (npm ci, never an npm install fallback) and production dependencies only at run time', () => {
    const runs = dockerfile.flatMap((s) => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args));
    expect(runs.some((r) => /npm (install|i)\b/.test(r))).toBe(false);
    expect(runs.join('\n')).not.toContain('||');
    const deps = dockerfile.find((s) => s.name === 'deps')!;
    expect(deps.instructions.find((i) => i.op === 'RUN')?.args).toMatch(/npm ci --omit=dev .*-w shared -w worker -w gateway$/);
    // The runtime stage takes node_modules only from the production-only stage.
    const modules = runtime.instructions.filter((i) => i.op === 'COPY' && i.args.includes('node_modules'));
    expect(modules.map((i) => /--from=(\S+)/.exec(i.args)?.[1])).toEqual(['deps']);
  });

  it('leaves no package manager in the runtime image', () => {
    const removed = runtime.instructions.filter((i) => i.op === 'RUN').map((i) => i.args).join(' ');
    for (const p of ['/usr/local/bin/npm', '/usr/local/bin/npx', '/usr/local/bin/corepack', '/usr/local/lib/node_modules']) expect(removed, p).toContain(p);
    // Removed before anything of ours is copied in, so no later step can need it.
    expect(runtime.instructions[0]?.op).toBe('RUN');
  });

  it('keeps tests, test helpers and the development launcher out of the build context', () => {
    for (const p of ['gateway/src/oauth/testing.ts', 'worker/src/testing/harness.ts', 'gateway/src/app.test.ts', 'gateway/tsconfig.test.json', 'test/src/dev/start.ts', '.dev/state.json']) expect(ignored(p), p).toBe(true);
    for (const p of ['gateway/src/app.ts', 'worker/src/main.ts', 'gateway/tsconfig.json']) expect(ignored(p), p).toBe(false);
  });

  it('runs as a non-root numeric user, so runAsNonRoot can verify it', () => {
    const users = runtime.instructions.filter((i) => i.op === 'USER');
    expect(users.at(-1)?.args).toMatch(/^[1-9]\d*:[1-9]\d*$/);
  });

  it('declares a HEALTHCHECK against /healthz and one entrypoint for gateway and worker', async () => {
    expect(runtime.instructions.find((i) => i.op === 'HEALTHCHECK')?.args).toContain('/app/healthcheck.mjs');
    expect(readFileSync(path.join(repoRoot, 'deploy/docker/healthcheck.mjs'), 'utf8')).toContain('/healthz');
    expect(runtime.instructions.find((i) => i.op === 'ENTRYPOINT')?.args).toBe('["/usr/local/bin/kmg"]');
    const kmg = path.join(repoRoot, 'deploy/docker/kmg');
    await expect(run('sh', [kmg, 'nonsense'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('expected gateway or worker') });
    const script = readFileSync(kmg, 'utf8');
    // The entrypoint starts the same files the packages declare as their bins.
    for (const pkg of ['gateway', 'worker']) {
      const bin = Object.values((JSON.parse(readFileSync(path.join(repoRoot, pkg, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin)[0]!;
      expect(script).toContain(`exec node /app/${pkg}/${bin.replace(/^\.\//, '')} "$@"`);
    }
  });

  it('copies only paths that exist and that .dockerignore lets into the context', () => {
    for (const stage of dockerfile) {
      for (const copy of stage.instructions.filter((i) => i.op === 'COPY' && !i.args.includes('--from='))) {
        const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
        for (const src of parts.slice(0, -1)) {
          expect(existsSync(path.join(repoRoot, src)), `${src} exists`).toBe(true);
          expect(ignored(src), `${src} is not excluded by .dockerignore`).toBe(false);
        }
      }
    }
  });

  it('keeps node_modules, build output, local state and secrets out of the context', () => {
    for (const p of ['node_modules', 'gateway/node_modules', 'worker/dist', '.stack', '.git', '.env']) expect(ignored(p), p).toBe(true);
  });

  it('leaves nothing writable for the runtime user but /tmp (read-only root filesystem)', () => {
    for (const copy of runtime.instructions.filter((i) => i.op === 'COPY')) {
      const chown = /--chown=(\S+)/.exec(copy.args)?.[1];
      if (chown) expect(chown).toBe('root:root');
    }
    expect(runtime.instructions.some((i) => i.op === 'ENV' && i.args.includes('TMPDIR=/tmp'))).toBe(true);
  });
});
