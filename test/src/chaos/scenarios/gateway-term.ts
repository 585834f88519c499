// Scenario 2: a rolling update under load: SIGTERM each gateway replica in turn and start it again.
import type { Scenario } from '../scenario.js';
import { sleep } from '../scenario.js';
import { resultOf, withRig } from './common.js';

const TARGET = '0 failed calls: a terminated replica stops accepting, drains, and finishes its calls and streams within its grace period';
const GRACE_SECONDS = 30;

export const gatewayTerm: Scenario = {
  name: 'gateway-term',
  target: TARGET,
  async run(opts) {
    const s = opts.short;
    return withRig(opts, { longCallSeconds: s ? 4 : 10, pauseMs: s ? 300 : 200 }, { shutdownSeconds: GRACE_SECONDS }, async ({ topo, load }) => {
      const notes: string[] = [];
      await sleep(s ? 3000 : 10_000);
      const startedAt = Date.now();
      const drains: number[] = [];
      for (const g of topo.gateways) {
        const inFlight = topo.lb.inFlight(g.index);
        const t0 = Date.now();
        await g.kill('SIGTERM');
        const drainMs = Date.now() - t0;
        drains.push(drainMs);
        notes.push(`replica ${g.index}: SIGTERM with ${inFlight} POSTs in flight; exited after ${drainMs} ms (grace ${GRACE_SECONDS} s)`);
        opts.report(notes.at(-1)!);
        await g.restart();
        await sleep(s ? 2000 : 5000);
      }
      await sleep(s ? 2000 : 10_000);
      await load.stop();
      const failures = load.failures();
      const during = load.failures(startedAt);
      notes.push(`${during.length} calls failed during the rolling update, ${failures.length - during.length} before it`);
      const met = failures.length === 0 && load.sessionsLost === 0 && load.unauthenticated200 === 0 && drains.every((d) => d < GRACE_SECONDS * 1000);
      return resultOf('2 gateway SIGTERM (rolling update)', TARGET, load, { met, notes });
    });
  },
};
