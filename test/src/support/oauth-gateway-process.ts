// A private gateway process for tests that need their own settings or their own Redis (the stack's two
// replicas stay untouched): config from the stack's generator, adjusted by the test, on a free port.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../stack/component.js';
import { gatewayConfig } from '../stack/components/gateways.js';
import { readStackEnvRaw, repoRoot } from '../stack/env.js';

export interface GatewayProcess {
  base: string;
  /** Org issuer: `${base}/orgs/stack`. */
  issuer: string;
  /** Redis key prefix of this process's store. */
  keyPrefix: string;
  /** Everything the process logged on stdout so far (JSON lines). */
  log(): string;
  stop(): Promise<void>;
}

type Config = Record<string, unknown> & { orgs: Record<string, unknown>[]; storage: { redis: { url: string; keyPrefix: string } } };

export async function startGatewayProcess(adjust: (cfg: Config) => void = () => undefined, envOverrides: Record<string, string> = {}): Promise<GatewayProcess> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kmg-gw-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...readStackEnvRaw(), ...envOverrides };
  const cfg = gatewayConfig(env, { publicUrl: base, encryptionKey: randomBytes(32).toString('base64') }) as Config;
  cfg.storage.redis.keyPrefix = `kmg-test-${port}:`;
  adjust(cfg);
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, stringify(cfg), { mode: 0o600 });
  const child: ChildProcess = spawn(process.execPath, [path.join(repoRoot, 'gateway/dist/main.js'), '--config', file, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const out: string[] = [];
  child.stdout?.on('data', (c: Buffer) => out.push(c.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}`);
    if (await fetch(`${base}/healthz`).then((r) => r.ok).catch(() => false)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('gateway did not become healthy');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    issuer: `${base}/orgs/stack`,
    keyPrefix: cfg.storage.redis.keyPrefix,
    log: () => out.join(''),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
