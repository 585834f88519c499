// The product image checked as users run it: built with `docker build` from the project's Dockerfile, then
// each entry point started with `docker run` exactly as docs/compose.md gives it (read-only root, tmpfs on
// /tmp, no capabilities, a config file mounted), against the shared test stack over the host network.
// Skips (saying so) only where no container engine can start.
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../stack/component.js';
import { gatewayConfig } from '../stack/components/gateways.js';
import { loadStackEnv, readStackEnvRaw, repoRoot } from '../stack/env.js';
import { dockerBin, ensureEngine, ensureHostTools } from './engine.js';
import { ensureBaseImages, ensureProductImage, REFS } from './images.js';
import { reporter, run, sleep } from './run.js';

const report = reporter();
const engineProblem = await ensureEngine(report).then(() => undefined, (err: unknown) => (err as Error).message);
if (engineProblem) process.stderr.write(`\nSKIPPING the image tests: no container engine could start here:\n${engineProblem}\n\n`);

const image = REFS.product;
const started: string[] = [];
let dir: string;

/** The flags every product container gets (docs/compose.md names them). */
export const hardened = ['--read-only', '--tmpfs', '/tmp', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--network', 'host'];

async function docker(args: string[], allowFailure = false) {
  return run(dockerBin(), args, { allowFailure });
}

async function inspect(name: string): Promise<{ State: { Status: string; ExitCode: number; Health?: { Status: string } } }> {
  return (JSON.parse((await docker(['inspect', name])).stdout) as [{ State: { Status: string; ExitCode: number; Health?: { Status: string } } }])[0];
}

async function waitHealthy(name: string): Promise<string> {
  for (let i = 0; i < 120; i++) {
    const s = await inspect(name);
    if (s.State.Status !== 'running') return `${s.State.Status} (exit ${s.State.ExitCode})`;
    if (s.State.Health?.Status === 'healthy' || s.State.Health?.Status === 'unhealthy') return s.State.Health.Status;
    await sleep(1000);
  }
  return 'still starting';
}

describe.skipIf(engineProblem !== undefined)('the product image, run as users run it', () => {
  beforeAll(async () => {
    await ensureHostTools(report);
    const log = path.join(repoRoot, '.compose', 'logs', 'images.log');
    await ensureProductImage(report, repoRoot, await ensureBaseImages(report, log), log);
    dir = mkdtempSync(path.join(tmpdir(), 'kmg-image-run-'));
    chmodSync(dir, 0o755);
  }, 3_600_000);

  afterAll(async () => {
    for (const name of started) await docker(['rm', '-f', name], true);
  });

  it('runs as a non-root user and is printed with its size', async () => {
    const user = (await docker(['image', 'inspect', '--format', '{{.Config.User}}', image])).stdout.trim();
    expect(user).toBe('1000:1000');
    const id = (await docker(['run', '--rm', '--entrypoint', 'id', image, '-u'])).stdout.trim();
    expect(id).toBe('1000');
    const bytes = Number((await docker(['image', 'inspect', '--format', '{{.Size}}', image])).stdout.trim());
    process.stdout.write(`\nimage ${image}: ${(bytes / 1e6).toFixed(1)} MB (target <= 250 MB)\n`);
    expect(bytes).toBeGreaterThan(0);
  });

  it('starts the gateway from a config file with a read-only root, turns healthy, writes only to /tmp, and exits on SIGTERM within the grace period', async () => {
    const env = loadStackEnv();
    const port = await freePort();
    const cfg = gatewayConfig(readStackEnvRaw() ?? {}, { publicUrl: `http://127.0.0.1:${port}`, encryptionKey: randomBytes(32).toString('base64') });
    copyFileSync(env.STACK_CA_FILE, path.join(dir, 'ca.crt'));
    const orgs = JSON.parse(JSON.stringify(cfg.orgs).replaceAll(env.STACK_CA_FILE, '/etc/kmg/ca.crt')) as unknown;
    writeFileSync(path.join(dir, 'gateway.yaml'), stringify({ ...cfg, orgs, listen: { host: '127.0.0.1', port } }), { mode: 0o644 });
    chmodSync(path.join(dir, 'ca.crt'), 0o644);
    const name = `kmg-image-gateway-${process.pid}`;
    started.push(name);
    await docker(['run', '-d', '--name', name, ...hardened, '-e', `PORT=${port}`,
      '-v', `${path.join(dir, 'gateway.yaml')}:/etc/kmg/gateway.yaml:ro`, '-v', `${path.join(dir, 'ca.crt')}:/etc/kmg/ca.crt:ro`,
      image, 'gateway', '--config', '/etc/kmg/gateway.yaml']);
    expect(await waitHealthy(name), (await docker(['logs', name], true)).stderr.slice(-2000)).toBe('healthy');
    const meta = await fetch(`http://127.0.0.1:${port}/.well-known/oauth-authorization-server`);
    expect(meta.status).toBe(200);

    const write = await docker(['exec', name, 'sh', '-c', 'touch /app/x'], true);
    expect(write.code).not.toBe(0);
    expect(write.stderr).toMatch(/Read-only file system/);
    expect((await docker(['exec', name, 'sh', '-c', 'touch /tmp/x && echo ok'])).stdout.trim()).toBe('ok');

    // docker stop sends SIGTERM and SIGKILLs after --time: exit code 0 (not 137) means it drained and left by itself.
    await docker(['stop', '--time', '30', name]);
    const s = await inspect(name);
    expect(s.State.Status).toBe('exited');
    expect(s.State.ExitCode).toBe(0);
  }, 240_000);

  it('starts the worker from a config file with a read-only root, turns healthy and exits on SIGTERM within the grace period', async () => {
    const env = loadStackEnv();
    const port = await freePort();
    copyFileSync(env.KUBE_CA_FILE, path.join(dir, 'kube-ca.crt'));
    chmodSync(path.join(dir, 'kube-ca.crt'), 0o644);
    writeFileSync(path.join(dir, 'worker.yaml'), stringify({
      host: '127.0.0.1', port,
      clusters: [{ name: 'stack', server: env.KUBE_APISERVER_URL, caFile: '/etc/kmg/kube-ca.crt', identity: 'bearer' }],
    }), { mode: 0o644 });
    const name = `kmg-image-worker-${process.pid}`;
    started.push(name);
    await docker(['run', '-d', '--name', name, ...hardened, '-e', `PORT=${port}`,
      '-v', `${path.join(dir, 'worker.yaml')}:/etc/kmg/worker.yaml:ro`, '-v', `${path.join(dir, 'kube-ca.crt')}:/etc/kmg/kube-ca.crt:ro`,
      image, 'worker', '--config', '/etc/kmg/worker.yaml']);
    expect(await waitHealthy(name), (await docker(['logs', name], true)).stderr.slice(-2000)).toBe('healthy');
    // Without a token the worker refuses the MCP call (it never acts without the caller's identity).
    const res = await fetch(`http://127.0.0.1:${port}/mcp`, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', host: `127.0.0.1:${port}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    await docker(['stop', '--time', '30', name]);
    const s = await inspect(name);
    expect(s.State.ExitCode).toBe(0);
  }, 240_000);
});
