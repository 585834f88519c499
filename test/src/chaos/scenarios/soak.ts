// Scenario 7: steady load for a while, sampling each gateway replica and the Redis they share. Besides the
// standing clients, a churn of short-lived sessions that are abandoned (never DELETEd) shows that expired
// sessions are reclaimed by their TTL rather than piling up.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { percentile } from '../../bench/section.js';
import { userToken } from '../../support/keycloak-tokens.js';
import type { Scenario } from '../scenario.js';
import { sleep } from '../scenario.js';
import { processStats } from '../topology.js';
import { resultOf, withRig } from './common.js';

// Short enough that abandoned sessions expire within the soak; the full run (50 clients on a busy machine, where a
// client can wait more than 15 s between requests) gets more so busy sessions are not taken for idle ones.
const SESSION_TTL_SECONDS = { short: 15, full: 60 };
const TARGET = `over the soak, from the first sampled third to the last: gateway RSS +≤ 25 % (or +≤ 48 MiB), heap +≤ 50 % (or +≤ 24 MiB), open fds +≤ 20, Redis keys +≤ 25 % + 20, cheap-call p99 (median of each third's samples) ≤ 2× + 50 ms; every Redis key has a TTL (sessions idle past their TTL — 15 s short, 60 s full — and exchange-cache entries are reclaimed); no failed call`;

interface Sample {
  t: number;
  rss: number;
  heap: number;
  fds: number;
  keys: number;
  p99: number;
}

const MiB = 2 ** 20;

export const soak: Scenario = {
  name: 'soak',
  target: TARGET,
  async run(opts) {
    const s = opts.short;
    const soakMs = opts.soakMs ?? (s ? 60_000 : 30 * 60_000);
    const every = Math.max(5_000, Math.round(soakMs / 30));
    return withRig(opts, { longCallSeconds: s ? 4 : 10, pauseMs: s ? 300 : 250 }, { sessionTtlSeconds: s ? SESSION_TTL_SECONDS.short : SESSION_TTL_SECONDS.full }, async ({ env, topo, load }) => {
      const notes: string[] = [];
      let churning = true;
      let churned = 0;
      let churnFailed = 0;
      const churn = (async () => {
        while (churning) {
          const c = new Client({ name: 'chaos-churn', version: '0.0.0' });
          try {
            // A fresh token each time: one taken at the start expires minutes into a 30-minute soak, and every
            // later session would be a (correct) 401 instead of one more abandoned session to reclaim.
            const token = (await userToken(env, 'alice')).access_token;
            await c.connect(new StreamableHTTPClientTransport(new URL(topo.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
            await c.listTools();
            churned++;
          } catch (err) {
            churnFailed++;
            opts.report(`churn session failed: ${String(err)}`);
          }
          // Abandoned, not closed: the transport's session stays in Redis until its TTL ends it.
          await c.transport?.close().catch(() => undefined);
          await sleep(1000);
        }
      })();
      const samples: Sample[] = [];
      const started = Date.now();
      let lastSampleAt = started;
      while (Date.now() - started < soakMs) {
        await sleep(Math.min(every, soakMs - (Date.now() - started)));
        const now = Date.now();
        const window = load.records.filter((r) => r.method !== 'long' && !r.failure && r.end > lastSampleAt && r.end <= now).map((r) => r.end - r.start);
        lastSampleAt = now;
        const stats = topo.gateways.map((g) => processStats(g.pid()!));
        const heaps = await Promise.all(topo.gateways.map((g) => g.metric('kmg_nodejs_heap_size_used_bytes')));
        samples.push({
          t: now - started,
          rss: Math.max(...stats.map((x) => x.rssBytes)),
          fds: Math.max(...stats.map((x) => x.fds)),
          heap: Math.max(...heaps),
          keys: await Promise.race([topo.redis.dbsize(), sleep(5000).then(() => NaN)]),
          p99: percentile(window, 99),
        });
        const x = samples.at(-1)!;
        opts.report(`t=${Math.round(x.t / 1000)}s rss ${(x.rss / MiB).toFixed(0)} MiB heap ${(x.heap / MiB).toFixed(0)} MiB fds ${x.fds} keys ${x.keys} p99 ${x.p99} ms`);
      }
      churning = false;
      await churn;
      // Keys without a TTL would live forever: the reclaim check.
      const keys = await topo.redis.keys('*');
      const ttls = await Promise.all(keys.map((k) => topo.redis.ttl(k)));
      const forever = keys.filter((_, i) => ttls[i] === -1);
      await load.stop();

      const third = Math.max(1, Math.floor(samples.length / 3));
      const first = samples.slice(0, third);
      const last = samples.slice(-third);
      const max = (xs: Sample[], f: (x: Sample) => number) => Math.max(...xs.map(f));
      const grow = (f: (x: Sample) => number) => ({ from: max(first, f), to: max(last, f) });
      const rss = grow((x) => x.rss);
      const heap = grow((x) => x.heap);
      const fds = grow((x) => x.fds);
      const keyCount = grow((x) => x.keys);
      // Latency is judged on the typical sample of each third (the median of the per-sample p99s): one slow minute on
      // a shared 2-core machine is noise, a p99 that drifts up is what a leak or a growing structure would show.
      const p99Of = (x: Sample) => (Number.isFinite(x.p99) ? x.p99 : 0);
      const median = (xs: Sample[]) => {
        const v = xs.map(p99Of).sort((a, b) => a - b);
        return v[Math.floor((v.length - 1) / 2)]!;
      };
      const p99 = { from: median(first), to: median(last), peaks: `${max(first, p99Of)} / ${max(last, p99Of)}` };
      const checks: Array<[string, boolean]> = [
        [`RSS ${(rss.from / MiB).toFixed(0)} → ${(rss.to / MiB).toFixed(0)} MiB`, rss.to <= Math.max(rss.from * 1.25, rss.from + 48 * MiB)],
        [`heap used ${(heap.from / MiB).toFixed(0)} → ${(heap.to / MiB).toFixed(0)} MiB`, heap.to <= Math.max(heap.from * 1.5, heap.from + 24 * MiB)],
        [`open fds ${fds.from} → ${fds.to}`, fds.to <= fds.from + 20],
        [`Redis keys ${keyCount.from} → ${keyCount.to} (${churned} abandoned sessions made)`, keyCount.to <= keyCount.from * 1.25 + 20],
        [`${churnFailed} abandoned-session openings failed`, churnFailed === 0],
        [`cheap-call p99 ${p99.from} → ${p99.to} ms (median of the samples in each third; peaks ${p99.peaks} ms)`, p99.to <= p99.from * 2 + 50],
        [`${forever.length} of ${keys.length} Redis keys without a TTL${forever.length ? `: ${forever.slice(0, 5).join(', ')}` : ''}`, forever.length === 0],
      ];
      notes.push(`first third vs last third of ${samples.length} samples every ${Math.round(every / 1000)} s; memory, fds and keys: the largest of each third (max per replica)`);
      for (const [n, ok] of checks) notes.push(`${ok ? 'ok' : 'NOT MET'}: ${n}`);
      notes.push(`soak ${Math.round(soakMs / 60_000 * 10) / 10} min, session TTL ${s ? SESSION_TTL_SECONDS.short : SESSION_TTL_SECONDS.full} s`);
      const failed = load.failures().length;
      const met = checks.every(([, ok]) => ok) && failed === 0 && load.sessionsLost === 0 && load.unauthenticated200 === 0;
      return resultOf('7 soak', TARGET, load, { met, notes });
    });
  },
};
