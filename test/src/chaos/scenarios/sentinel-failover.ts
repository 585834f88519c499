// Scenario 4b: the Redis master behind Sentinel dies (SIGKILL) under load; Sentinel promotes the replica. Until the
// gateways reach the new master every signed-in request fails closed; after the promotion service resumes within
// 5 s, and grants and sessions (replicated before the kill) are still there.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StackUser } from '../../support/keycloak-tokens.js';
import { withFacadeRig } from '../facade.js';
import { GrantProber, judgeOutage, lostGrants, sentinelSet } from '../redis-fault.js';
import type { Scenario } from '../scenario.js';
import { sleep, until } from '../scenario.js';
import { resultOf } from './common.js';

const TARGET = 'master SIGKILLed, Sentinel promotes the replica: until then every signed-in request is 503 + Retry-After or 401 (never 200, never 500); within 5 s of the promotion all clients are served; 0 grants and 0 sessions lost';

export const sentinelFailover: Scenario = {
  name: 'sentinel-failover',
  target: TARGET,
  async run(opts) {
    const s = opts.short;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kmg-chaos-sentinel-'));
    const set = await sentinelSet(dir);
    try {
      const users: StackUser[] = s ? ['alice'] : ['alice', 'bob', 'carol'];
      return await withFacadeRig(opts, { longCallSeconds: s ? 4 : 10, pauseMs: s ? 300 : 200 }, { redisUrl: set.url }, users, async ({ topo, load, grants }) => {
        const prober = new GrantProber(`${topo.gwIssuer}/mcp`, grants);
        prober.start();
        await sleep(s ? 2000 : 10_000);

        await set.master.stop('SIGKILL');
        const killedAt = Date.now();
        opts.report(`master killed at ${new Date(killedAt).toISOString()}`);
        let lastOld = killedAt;
        await until('Sentinel to promote the replica', async () => {
          const polled = Date.now();
          if ((await set.masterPort()) === set.replica.port) return true;
          lastOld = polled;
          return false;
        }, 30_000, 50);
        const promotedAt = Date.now();
        opts.report(`replica promoted ${promotedAt - killedAt} ms after the kill`);
        await until('every client to be served again', () => load.recoveryAfter(promotedAt) !== null && prober.recoveryAfter(promotedAt) !== null, 30_000).catch(() => undefined);
        await sleep(s ? 1000 : 5000);
        await prober.stop();
        await load.stop();

        const verdict = judgeOutage({ load, prober, downAt: killedAt, goneUntil: lastOld, backAt: promotedAt, grantsLost: await lostGrants(topo.gwIssuer, grants), recoverBoundMs: s ? 30_000 : 5000 });
        verdict.notes.unshift(`Sentinel (down-after 1 s, quorum 1) promoted the replica ${promotedAt - killedAt} ms after the master was killed; recovery is counted from the promotion`);
        return resultOf('4b Sentinel failover', TARGET, load, { ...verdict, familiesRevoked: 0 });
      });
    } finally {
      await set.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
