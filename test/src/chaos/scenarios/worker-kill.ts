// Scenario 3: SIGKILL a worker under load, then start it again.
import type { Scenario } from '../scenario.js';
import { sleep, until } from '../scenario.js';
import type { GatewayReplica } from '../topology.js';
import { isClearError, resultOf, withRig } from './common.js';

const TARGET = 'only calls in flight on the killed worker fail, each with a clear JSON-RPC error (never a hang); calls started once the worker is gone succeed (no tools/call repeated elsewhere); every gateway takes the worker out ≤ 2 s and back in after restart';

/** First log line at or after `t` that says this gateway took the worker out (or put it back in). */
function healthEvent(g: GatewayReplica, worker: string, t: number, healthy: boolean): number | null {
  const origin = new URL(worker).origin;
  const hit = g.healthLog.find((l) => l.time >= t && l.worker === origin && (healthy ? l.healthy === true : l.healthy === false || /unreachable/.test(l.msg)));
  return hit ? hit.time : null;
}

export const workerKill: Scenario = {
  name: 'worker-kill',
  target: TARGET,
  async run(opts) {
    const s = opts.short;
    return withRig(opts, { longCallSeconds: s ? 4 : 10, pauseMs: s ? 300 : 200 }, {}, async ({ topo, load }) => {
      const notes: string[] = [];
      await sleep(s ? 3000 : 10_000);
      const victim = topo.workers.procs[0]!;
      const killedAt = Date.now();
      const exited = new Promise((r) => victim.once('exit', r));
      victim.kill('SIGKILL');
      await exited;
      // The kernel closes a killed process's sockets only as it tears it down: a call sent between the signal and the
      // exit can still reach the dying worker, and is in flight on it. "After the kill" starts when it is gone.
      const goneAt = Date.now();
      opts.report(`worker 0 killed at ${new Date(killedAt).toISOString()}`);
      // Both gateways must notice within their health-check period (or at once, on a refused connect).
      await until('every gateway to take the worker out', () => topo.gateways.every((g) => healthEvent(g, topo.workers.urls[0]!, killedAt, false) !== null), 15_000).catch(() => undefined);
      await sleep(s ? 3000 : 10_000);
      const restartedAt = Date.now();
      await topo.workers.restart(0);
      await until('every gateway to put the worker back', () => topo.gateways.every((g) => healthEvent(g, topo.workers.urls[0]!, restartedAt, true) !== null), 20_000).catch(() => undefined);
      await sleep(s ? 2000 : 10_000);
      await load.stop();

      const removal = topo.gateways.map((g) => healthEvent(g, topo.workers.urls[0]!, killedAt, false));
      const backIn = topo.gateways.map((g) => healthEvent(g, topo.workers.urls[0]!, restartedAt, true));
      const removalMs = removal.every((t) => t !== null) ? Math.max(...removal.map((t) => t! - killedAt)) : null;
      const backInMs = backIn.every((t) => t !== null) ? Math.max(...backIn.map((t) => t! - restartedAt)) : null;
      const failures = load.failures(killedAt - 1);
      const startedAfter = failures.filter((f) => f.start > goneAt);
      const unclear = failures.filter((f) => !isClearError(f.failure!));
      const before = load.failures(0, killedAt - 1).filter((f) => f.end < killedAt);
      notes.push(`${load.inFlightAt(killedAt).length} calls were in flight (on either worker) at the kill, the worker was gone ${goneAt - killedAt} ms later; ${failures.length} failed after the kill, ${startedAfter.length} of them started after the worker was gone; ${unclear.length} without a clear JSON-RPC error`);
      notes.push(`worker taken out by every gateway ${removalMs === null ? 'NOT within 15 s' : `${removalMs} ms`} after the kill; back in ${backInMs === null ? 'NOT within 20 s' : `${backInMs} ms`} after its restart answered /healthz`);
      if (before.length) notes.push(`${before.length} calls failed before the fault (background noise)`);
      const met = startedAfter.length === 0 && unclear.length === 0 && before.length === 0 && removalMs !== null && removalMs <= 2000 && backInMs !== null && load.sessionsLost === 0 && load.unauthenticated200 === 0;
      return resultOf('3 worker SIGKILL', TARGET, load, { recoverMs: removalMs, met, notes });
    });
  },
};
