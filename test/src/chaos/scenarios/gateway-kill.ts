// Scenario 1: SIGKILL a gateway replica under load, then start it again.
import type { Scenario } from '../scenario.js';
import { sleep } from '../scenario.js';
import { resultOf, withRig } from './common.js';

const TARGET = 'clients carry on through the other replica with the same sessions and tokens: 0 sessions lost, 0 families revoked; only calls in flight on the killed replica fail';

export const gatewayKill: Scenario = {
  name: 'gateway-kill',
  target: TARGET,
  async run(opts) {
    const s = opts.short;
    return withRig(opts, { longCallSeconds: s ? 4 : 10, pauseMs: s ? 300 : 200 }, {}, async ({ topo, load }) => {
      const notes: string[] = [];
      await sleep(s ? 3000 : 10_000);
      const victim = topo.gateways[0]!;
      // What was in flight on the victim is what may fail: the balancer counts its open POSTs.
      const inFlightOnVictim = topo.lb.inFlight(0);
      const killedAt = Date.now();
      await victim.kill('SIGKILL');
      // A killed process's sockets close only as the kernel tears it down: a call the balancer hands it in between
      // is in flight on it. "After the kill" starts once it is gone (its exit observed).
      const goneAt = Date.now();
      opts.report(`gateway 0 killed with ${inFlightOnVictim} POSTs in flight on it`);
      await sleep(s ? 3000 : 10_000);
      const restartAt = Date.now();
      await victim.restart();
      opts.report(`gateway 0 back after ${Date.now() - restartAt} ms`);
      await sleep(s ? 3000 : 10_000);
      await load.stop();

      const failures = load.failures(killedAt - 1);
      const startedAfter = failures.filter((f) => f.start > goneAt);
      const before = load.failures(0, killedAt - 1).filter((f) => f.end < killedAt);
      const recoverMs = load.recoveryAfter(killedAt);
      notes.push(`${inFlightOnVictim} POSTs were in flight on the killed replica, gone ${goneAt - killedAt} ms after the signal; ${failures.length} calls failed after the kill, ${startedAfter.length} of them started after it was gone`);
      notes.push(`every client had a call started after the kill succeed within ${recoverMs ?? 'never'} ms; the replica was restarted after ${s ? 3 : 10} s and took load again`);
      notes.push('load uses resource-server mode (Keycloak tokens), so there are no gateway refresh families to revoke: 0 by construction here; refresh families under load are scenario 6');
      if (before.length) notes.push(`${before.length} calls failed before the fault (background noise)`);
      // Judged from the clients' side: every failed call started before the replica was gone (the balancer's count of POSTs open
      // on the victim is a note — it misses requests still in its hand or in the replica's accept queue).
      const met = startedAfter.length === 0 && before.length === 0 && load.sessionsLost === 0 && load.unauthenticated200 === 0 && recoverMs !== null;
      return resultOf('1 gateway SIGKILL', TARGET, load, { recoverMs, met, notes });
    });
  },
};
