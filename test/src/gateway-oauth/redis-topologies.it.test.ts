// The gateway's store on the other Redis topologies its URL accepts: Cluster (redis-cluster://, three
// masters made with redis-cli --cluster create) and Sentinel (redis-sentinel://…/mymaster). Single-key
// atomics (GETDEL, SET NX, the compare-and-set script) must behave exactly as on a standalone server.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisKvStore } from '@kmg/gateway/store/redis';
import { freePort } from '../stack/component.js';
import { redisPing } from '../stack/components/redis.js';

const procs: ChildProcess[] = [];
let dir: string;

async function startRedis(args: string[], port: number): Promise<void> {
  const child = spawn('redis-server', [...args], { stdio: 'ignore' });
  procs.push(child);
  const deadline = Date.now() + 10_000;
  while (!(await redisPing(`redis://127.0.0.1:${port}`).catch(() => false))) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${args.join(' ')}`);
    if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const base = (port: number, sub: string) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', path.join(dir, sub)];

/** The store contract in one go: TTLs, single use, one CAS winner. */
async function exerciseStore(kv: RedisKvStore): Promise<void> {
  // Keys spread over slots/nodes: each operation is single-key.
  for (let i = 0; i < 20; i++) {
    expect(await kv.setIfAbsent(`lock:${i}`, 'a', 30)).toBe(true);
    expect(await kv.setIfAbsent(`lock:${i}`, 'b', 30)).toBe(false);
    expect(await kv.ttl(`lock:${i}`)).toBeGreaterThan(0);
  }
  await kv.set('code', 'v', 30);
  const takes = await Promise.all(Array.from({ length: 10 }, () => kv.getDel('code')));
  expect(takes.filter((t) => t === 'v')).toHaveLength(1);
  await kv.set('fam', 'g0', 30);
  const wins = await Promise.all(Array.from({ length: 10 }, (_, i) => kv.compareAndSet('fam', 'g0', `g${i + 1}`, 30)));
  expect(wins.filter(Boolean)).toHaveLength(1);
  expect(await kv.incr('n', 30)).toBe(1);
  expect(await kv.del('fam', 'n', 'lock:0', 'lock:1')).toBe(4);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kmg-redis-topo-'));
});
afterAll(async () => {
  for (const p of procs) {
    if (p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the gateway store on Redis Cluster and Sentinel', () => {
  it('works on a three-master Redis Cluster through a redis-cluster:// URL', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    for (const p of ports) {
      const sub = `cluster-${p}`;
      spawnSync('mkdir', ['-p', path.join(dir, sub)]);
      await startRedis([...base(p, sub), '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${p}.conf`], p);
    }
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
    expect(created.status, created.stdout + created.stderr).toBe(0);
    // Wait until every slot is served.
    for (let i = 0; i < 50; i++) {
      const info = spawnSync('redis-cli', ['-p', String(ports[0]), 'cluster', 'info'], { encoding: 'utf8' }).stdout;
      if (info.includes('cluster_state:ok')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const kv = new RedisKvStore({ url: `redis-cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, keyPrefix: 'kmg-it:' });
    try {
      await kv.ping();
      await exerciseStore(kv);
    } finally {
      await kv.close();
    }
  });

  it('works through Sentinel with a redis-sentinel:// URL naming the master', async () => {
    const master = await freePort();
    spawnSync('mkdir', ['-p', path.join(dir, 'master'), path.join(dir, 'sentinel')]);
    await startRedis(base(master, 'master'), master);
    const sentinel = await freePort();
    const conf = path.join(dir, 'sentinel', 'sentinel.conf');
    writeFileSync(conf, `port ${sentinel}\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 ${master} 1\n`);
    await startRedis([conf, '--sentinel'], sentinel);
    const kv = new RedisKvStore({ url: `redis-sentinel://127.0.0.1:${sentinel}/mymaster`, keyPrefix: 'kmg-it:' });
    try {
      await kv.ping();
      await exerciseStore(kv);
    } finally {
      await kv.close();
    }
  });
});
