// Scenario 4a: Redis (AOF, fsync always) stops under load and comes back on the same port a few seconds later.
// Meanwhile every signed-in request fails closed; afterwards service resumes within 5 s and every grant and session
// is still there.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StackUser } from '../../support/keycloak-tokens.js';
import { withFacadeRig } from '../facade.js';
import { GrantProber, judgeOutage, lostGrants, redisServer, type RedisProcess } from '../redis-fault.js';
import type { Scenario } from '../scenario.js';
import { sleep, until } from '../scenario.js';
import { resultOf } from './common.js';

const TARGET = 'while Redis is stopped every signed-in request is 503 + Retry-After or 401 (never 200, never 500); within 5 s of Redis answering again all clients are served; with AOF 0 grants and 0 sessions lost';

export const redisRestart: Scenario = {
  name: 'redis-restart',
  target: TARGET,
  async run(opts) {
    const s = opts.short;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kmg-chaos-aof-'));
    let redis: RedisProcess = await redisServer({ dir, aof: true });
    try {
      const users: StackUser[] = s ? ['alice'] : ['alice', 'bob', 'carol'];
      return await withFacadeRig(opts, { longCallSeconds: s ? 4 : 10, pauseMs: s ? 300 : 200 }, { redisUrl: redis.url }, users, async ({ topo, load, grants }) => {
        const prober = new GrantProber(`${topo.gwIssuer}/mcp`, grants);
        prober.start();
        await sleep(s ? 2000 : 10_000);

        await redis.stop('SIGTERM');
        const downAt = Date.now();
        opts.report(`redis stopped at ${new Date(downAt).toISOString()}`);
        await sleep(s ? 2000 : 5000);
        redis = await redisServer({ dir, port: redis.port, aof: true });
        const backAt = Date.now();
        opts.report(`redis answering again after ${backAt - downAt} ms`);
        await until('every client to be served again', () => load.recoveryAfter(backAt) !== null && prober.recoveryAfter(backAt) !== null, 30_000).catch(() => undefined);
        await sleep(s ? 1000 : 5000);
        await prober.stop();
        await load.stop();

        const verdict = judgeOutage({ load, prober, downAt, goneUntil: redis.spawnedAt, backAt, grantsLost: await lostGrants(topo.gwIssuer, grants), recoverBoundMs: s ? 30_000 : 5000 });
        return resultOf('4a Redis restart (AOF)', TARGET, load, { ...verdict, familiesRevoked: 0 });
      });
    } finally {
      await redis.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
