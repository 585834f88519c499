// etcd 3.6 built from its Go module (Debian's 3.4 is too old), one member per stack, data under .stack/data.
import type { Component } from '../component.js';
import { request } from '../http.js';
import { ensureGoBinary, script } from './go-build.js';

export const ETCD_VERSION = process.env.KMG_ETCD_VERSION ?? 'v3.6.6';

export const etcd: Component = {
  name: 'etcd',
  async up(ctx) {
    const bin = await ensureGoBinary(ctx, {
      name: 'etcd', version: ETCD_VERSION, binary: 'etcd',
      build: (c, out) => c.run(script(c, 'build-go-binary.sh'),
        ['go.etcd.io/etcd/server/v3', ETCD_VERSION, 'go.etcd.io/etcd/server/v3', out, 'etcd']),
    });
    const client = await ctx.freePort();
    const peer = await ctx.freePort();
    const clientUrl = `http://127.0.0.1:${client}`;
    const peerUrl = `http://127.0.0.1:${peer}`;
    const proc = ctx.spawn(bin, [
      '--name', 'stack',
      '--data-dir', ctx.dataDir(),
      '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `stack=${peerUrl}`,
      // Throwaway test data: skip fsync (large speed-up on a shared disk).
      '--unsafe-no-fsync',
      '--log-level', 'warn',
    ]);
    const env = { ETCD_URL: clientUrl };
    await ctx.waitFor('/health', async () => (await health(env)) === undefined, { process: proc, timeoutMs: 60_000 });
    return env;
  },
  async check(env) {
    const problem = await health(env);
    if (problem) throw new Error(problem);
  },
};

async function health(env: Record<string, string>): Promise<string | undefined> {
  if (!env.ETCD_URL) return 'ETCD_URL missing';
  try {
    const res = await request(`${env.ETCD_URL}/health`);
    return res.status === 200 && /"health":\s*"true"/.test(res.text) ? undefined : `etcd /health: ${res.status} ${res.text}`;
  } catch (err) {
    return `etcd /health: ${(err as Error).message}`;
  }
}
