// What scenario 4 needs around a Redis it may break: its own Redis servers (standalone with AOF, or a master, a
// replica and a Sentinel), gateway-issued grants to lose, and a prober that records what the gateway answers a
// signed-in client at every moment of the outage, so fail-closed (503 + Retry-After or 401, never 200 or 500),
// recovery time and lost grants can be judged.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../stack/component.js';
import { redisArgs, redisPing } from '../stack/components/redis.js';
import { mcpToolsList, mcpWhoami, refreshAt, type FacadeGrant } from './facade.js';
import { sleep, until } from './scenario.js';

export interface RedisProcess {
  port: number;
  url: string;
  proc: ChildProcess;
  /** When the process was spawned: nothing can have been served from it before. */
  spawnedAt: number;
  /** SIGTERM (with AOF the data is on disk) or SIGKILL; resolves when it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A redis-server on `port` (the same `dir` and `aof` bring the same data back). */
export async function redisServer(o: { dir: string; port?: number; aof: boolean; extra?: string[] }): Promise<RedisProcess> {
  mkdirSync(o.dir, { recursive: true });
  const port = o.port ?? (await freePort());
  const spawnedAt = Date.now();
  const proc = spawn('redis-server', [...redisArgs({ port, dir: o.dir, aof: o.aof }), ...(o.extra ?? [])], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  await until(`redis-server on ${port}`, async () => {
    if (proc.exitCode !== null) throw new Error(`redis-server exited (${proc.exitCode}) on ${port}`);
    return redisPing(url).catch(() => false);
  }, 15_000, 50);
  return {
    port,
    url,
    proc,
    spawnedAt,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill(signal);
      await exited;
    },
  };
}

export interface SentinelSet {
  /** The gateway's URL for it: redis-sentinel://…/mymaster. */
  url: string;
  master: RedisProcess;
  replica: RedisProcess;
  sentinel: ChildProcess;
  /** Port of the master the Sentinel names now. */
  masterPort(): Promise<number | null>;
  stop(): Promise<void>;
}

const MASTER_NAME = 'mymaster';

/** A master, one replica and one Sentinel (quorum 1) that fails over one second after the master stops answering. */
export async function sentinelSet(dir: string): Promise<SentinelSet> {
  const master = await redisServer({ dir: path.join(dir, 'master'), aof: false });
  const replica = await redisServer({ dir: path.join(dir, 'replica'), aof: false, extra: ['--replicaof', '127.0.0.1', String(master.port)] });
  const port = await freePort();
  mkdirSync(path.join(dir, 'sentinel'), { recursive: true });
  const conf = path.join(dir, 'sentinel', 'sentinel.conf');
  writeFileSync(
    conf,
    [`port ${port}`, 'bind 127.0.0.1', `dir ${path.join(dir, 'sentinel')}`, `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 1`, `sentinel down-after-milliseconds ${MASTER_NAME} 1000`, `sentinel failover-timeout ${MASTER_NAME} 5000`, `sentinel parallel-syncs ${MASTER_NAME} 1`, ''].join('\n'),
  );
  const sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 200 });
  client.on('error', () => undefined);
  const masterPort = async () => {
    const addr = (await client.call('SENTINEL', 'get-master-addr-by-name', MASTER_NAME).catch(() => null)) as string[] | null;
    return addr ? Number(addr[1]) : null;
  };
  await until('Sentinel to see the master and its replica', async () => {
    if (sentinel.exitCode !== null) throw new Error('redis-sentinel exited');
    const replicas = (await client.call('SENTINEL', 'replicas', MASTER_NAME).catch(() => [])) as unknown[];
    return (await masterPort()) === master.port && replicas.length > 0;
  }, 30_000, 200);
  return {
    url: `redis-sentinel://127.0.0.1:${port}/${MASTER_NAME}`,
    master,
    replica,
    sentinel,
    masterPort,
    async stop() {
      client.disconnect();
      if (sentinel.exitCode === null) {
        const exited = new Promise((r) => sentinel.once('exit', r));
        sentinel.kill('SIGKILL');
        await exited;
      }
      await master.stop('SIGKILL');
      await replica.stop('SIGKILL');
    },
  };
}

export interface ProbeAnswer {
  grant: number;
  start: number;
  end: number;
  status: number;
  retryAfter: string | null;
}

/**
 * Each grant's client lists tools with its gateway-issued access token through the balancer, one request after
 * another, until stopped: the gateway must check that token, the rate limits and the catalog in Redis every time
 * (and no worker or apiserver latency blurs when Redis is back).
 */
export class GrantProber {
  readonly answers: ProbeAnswer[] = [];
  #stopping = false;
  #loops: Promise<void>[] = [];
  constructor(
    private readonly mcpUrl: string,
    private readonly grants: FacadeGrant[],
    private readonly pauseMs = 100,
  ) {}

  start(): void {
    this.#loops = this.grants.map(async (g, i) => {
      while (!this.#stopping) {
        const start = Date.now();
        const a = await mcpToolsList(this.mcpUrl, g.tokens.access_token);
        this.answers.push({ grant: i, start, end: Date.now(), status: a.status, retryAfter: a.retryAfter });
        await sleep(this.pauseMs);
      }
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#loops);
  }

  /** Answers to requests sent while Redis was gone (started after `from`, ended before `to`). */
  during(from: number, to: number): ProbeAnswer[] {
    return this.answers.filter((a) => a.start >= from && a.end <= to);
  }

  /** Milliseconds from `t` until every grant's client had a 200 to a request started after `t` (null if one never did). */
  recoveryAfter(t: number): number | null {
    let worst = 0;
    for (let g = 0; g < this.grants.length; g++) {
      const first = this.answers.filter((a) => a.grant === g && a.start >= t && a.status === 200).reduce((m, a) => Math.min(m, a.end), Infinity);
      if (!Number.isFinite(first)) return null;
      worst = Math.max(worst, first - t);
    }
    return worst;
  }
}

/** Kinds of the answers, e.g. { '503 + Retry-After': 40, '200': 3 }. */
export function tally(answers: ProbeAnswer[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers) {
    const k = a.status === 503 ? (a.retryAfter ? '503 + Retry-After' : '503 without Retry-After') : a.status === 0 ? 'no answer' : String(a.status);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Fail-closed answers: 503 with Retry-After, or 401 (the client signs in again). */
export const failsClosed = (a: ProbeAnswer): boolean => (a.status === 503 && !!a.retryAfter) || a.status === 401;

/** Grants whose access token or refresh token no longer works (after the fault): each is a user logged out. */
export async function lostGrants(issuer: string, grants: FacadeGrant[]): Promise<{ lost: number; detail: string[] }> {
  const detail: string[] = [];
  let lost = 0;
  for (const g of grants) {
    const access = await mcpWhoami(`${issuer}/mcp`, g.tokens.access_token);
    const refreshed = await refreshAt(issuer, g.clientId, g.tokens.refresh_token);
    if (access.status !== 200 || refreshed.status !== 200) {
      lost++;
      detail.push(`${g.user}: access ${access.status}, refresh ${refreshed.status} ${String(refreshed.body.error ?? '')}`);
    }
  }
  return { lost, detail };
}

export interface OutageVerdict {
  met: boolean;
  recoverMs: number | null;
  unauthenticated200: number;
  notes: string[];
}

/**
 * Judges a Redis outage from `downAt` (Redis gone) to `backAt` (Redis, or the promoted replica, answering): every
 * answer to a signed-in request in between fails closed, load and probes are served again within 5 s of `backAt`,
 * no grant and no session is lost.
 */
export function judgeOutage(o: {
  load: { records: { client: number; start: number; end: number; failure?: string }[]; failures(from?: number, to?: number): { start: number; end: number; failure?: string }[]; recoveryAfter(t: number): number | null; sessionsLost: number; unauthenticated200: number };
  prober: GrantProber;
  downAt: number;
  /** Last moment no Redis could have answered (the new server's spawn, the last poll naming the dead master). */
  goneUntil: number;
  backAt: number;
  grantsLost: { lost: number; detail: string[] };
  /** 5 s in npm run chaos; the short version (npm test) only requires recovery at all, its timing is not asserted. */
  recoverBoundMs: number;
}): OutageVerdict {
  const { load, prober, downAt, backAt } = o;
  const during = prober.during(downAt, o.goneUntil);
  const open200 = during.filter((a) => a.status === 200).length;
  const notClosed = during.filter((a) => !failsClosed(a) && a.status !== 200);
  // SDK clients report an HTTP failure as its status; anything else (a 500, a cut connection) is not fail-closed.
  const loadFailures = load.failures(downAt);
  // A tool error is the worker's answer to a request the gateway authenticated: served, not an auth decision.
  const loadNotClosed = loadFailures.filter((f) => f.failure !== 'tool error' && !/\b(503|401)\b/.test(f.failure ?? ''));
  const late = load.failures(backAt).filter((f) => f.start >= backAt && f.failure !== 'tool error');
  const loadKinds: Record<string, number> = {};
  for (const f of loadFailures) loadKinds[f.failure!] = (loadKinds[f.failure!] ?? 0) + 1;
  const before = load.failures(0, downAt - 1).filter((f) => f.end < downAt);
  // Recovery: how long after Redis answered the gateway kept failing, i.e. when (worst client) the first call that
  // succeeded was sent. Its answer's latency is the machine's, reported beside it (end-based, chaos-A's measure).
  const sentLoad = firstServedSend(load.records, backAt, (r) => r.client, (r) => !r.failure);
  const sentProbe = firstServedSend(prober.answers, backAt, (a) => a.grant, (a) => a.status === 200);
  const recoverMs = sentLoad === null || sentProbe === null ? null : Math.max(sentLoad, sentProbe);
  const recLoad = load.recoveryAfter(backAt);
  const recProbe = prober.recoveryAfter(backAt);
  const unauthenticated200 = open200 + load.unauthenticated200;
  const notes = [
    `Redis gone for ${o.goneUntil - downAt} ms (answering ${backAt - downAt} ms after the fault); gateway-token requests sent and answered while no Redis could answer: ${during.length} (${JSON.stringify(tally(during))})`,
    `SDK load failures from the fault on: ${loadFailures.length} (${JSON.stringify(loadKinds)}); ${loadNotClosed.length} not a 503/401${before.length ? `; ${before.length} failures before the fault (background noise)` : ''}`,
    `recovery (worst client's first served call was sent this long after Redis answered; bound ${o.recoverBoundMs} ms): SDK load ${ms(sentLoad)}, gateway-token clients ${ms(sentProbe)}; its answer arrived (incl. call latency on this machine): SDK load ${ms(recLoad)}, gateway-token clients ${ms(recProbe)}`,
    `calls started after Redis answered that failed: ${late.length}${late.length ? ` (${late.slice(0, 8).map((f) => `${f.failure} +${f.start - backAt}..${f.end - backAt} ms`).join(', ')})` : ''}`,
    `grants lost: ${o.grantsLost.lost}${o.grantsLost.detail.length ? ` (${o.grantsLost.detail.join('; ')})` : ''}; sessions lost: ${load.sessionsLost}`,
  ];
  const met = unauthenticated200 === 0 && notClosed.length === 0 && loadNotClosed.length === 0 && recoverMs !== null && recoverMs <= o.recoverBoundMs && o.grantsLost.lost === 0 && load.sessionsLost === 0;
  return { met, recoverMs, unauthenticated200, notes };
}

const ms = (v: number | null) => (v === null ? 'NOT within the wait' : `${v} ms`);

/** Worst key's delay from `t` to the start of its first call started at or after `t` that succeeded (null if one never did). */
export function firstServedSend<T extends { start: number }>(rows: T[], t: number, key: (r: T) => number, ok: (r: T) => boolean): number | null {
  const keys = new Set(rows.map(key));
  let worst = 0;
  for (const k of keys) {
    const first = rows.filter((r) => key(r) === k && r.start >= t && ok(r)).reduce((m, r) => Math.min(m, r.start), Infinity);
    if (!Number.isFinite(first)) return null;
    worst = Math.max(worst, first - t);
  }
  return worst;
}
