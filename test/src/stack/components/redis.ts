// Redis from Debian's redis-server, one per stack on a free port, no persistence by default.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { Component, StackContext } from '../component.js';
import { freePort } from '../component.js';

export interface RedisServerOptions {
  port: number;
  dir: string;
  /** appendonly yes + appendfsync always: a restart loses no acknowledged write. */
  aof?: boolean;
}

export function redisArgs(opts: RedisServerOptions): string[] {
  return [
    '--port', String(opts.port),
    '--bind', '127.0.0.1',
    '--dir', opts.dir,
    '--save', '',
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    ...(opts.aof ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
  ];
}

export async function redisPing(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } finally {
    client.disconnect();
  }
}

export interface StandaloneRedis {
  url: string;
  port: number;
  /** Stops the server (SIGTERM; with AOF the data stays in `dir` for the next start). */
  stop(): Promise<void>;
}

/**
 * Starts a private redis-server for one test (e.g. a restart-with-AOF test), separate from the shared one.
 * Start it again with the same `dir` and `aof: true` to get the same data back.
 */
export async function startStandaloneRedis(opts: { dir: string; aof?: boolean; port?: number; logFile?: string }): Promise<StandaloneRedis> {
  mkdirSync(opts.dir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const fd = openSync(opts.logFile ?? '/dev/null', 'a');
  const child = spawn('redis-server', redisArgs({ port, dir: opts.dir, aof: opts.aof ?? false }), { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const url = `redis://127.0.0.1:${port}`;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}) on port ${port}`);
    if (await redisPing(url).catch(() => false)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

export const redis: Component = {
  name: 'redis',
  async up(ctx: StackContext) {
    const port = await ctx.freePort('REDIS_PORT');
    const dir = ctx.dataDir();
    // KMG_REDIS_AOF=1 runs the shared Redis with AOF (restart without losing grants).
    const aof = process.env.KMG_REDIS_AOF === '1';
    const proc = ctx.spawn('redis-server', redisArgs({ port, dir, aof }));
    const url = `redis://127.0.0.1:${port}`;
    await ctx.waitFor('PING', () => redisPing(url), { process: proc, timeoutMs: 15_000 });
    return { REDIS_URL: url, REDIS_PORT: String(port) };
  },
  async check(env) {
    const url = env.REDIS_URL;
    if (!url) throw new Error('REDIS_URL missing');
    if (!(await redisPing(url).catch(() => false))) throw new Error(`no PONG from ${url}`);
  },
};
