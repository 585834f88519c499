// Scenario 6: many clients refresh the same gateway grant at the same moment, spread over both replicas (a client
// library retrying, several tabs, a fleet sharing a credential). Rotation is compare-and-set in Redis: one request
// rotates, every other one is inside the grace window and gets the same new refresh token; nobody is logged out.
import { loadStackEnv } from '../../stack/env.js';
import { launchBrowser } from '../../support/browser-login.js';
import { mcpWhoami, refreshAt, sdkWhoami, signIn, type Answer } from '../facade.js';
import type { Scenario, ScenarioResult } from '../scenario.js';
import { startTopology } from '../topology.js';

const GRACE_SECONDS = 10;
const TARGET = `N concurrent refreshes of one grant across both replicas: all answered 200, exactly one new refresh token (one rotation won), the others got it within the ${GRACE_SECONDS} s grace window; every access token works; 0 families revoked`;

export const refreshStorm: Scenario = {
  name: 'refresh-storm',
  target: TARGET,
  async run(opts) {
    const env = loadStackEnv();
    const topo = await startTopology(env, { facade: { refreshGraceSeconds: GRACE_SECONDS } });
    const browser = await launchBrowser();
    const failedByKind: Record<string, number> = {};
    const fail = (kind: string) => void (failedByKind[kind] = (failedByKind[kind] ?? 0) + 1);
    let attempted = 0;
    let succeeded = 0;
    let unauthenticated200 = 0;
    const notes: string[] = [];
    try {
      const grant = await signIn(browser, env, topo.gwIssuer, 'alice');
      const mcpUrl = `${topo.gwIssuer}/mcp`;
      const rounds = opts.short ? 2 : 5;
      let current = grant.tokens.refresh_token;
      let roundsWithOneWinner = 0;
      let slowestMs = 0;
      let lastAccess: string[] = [];
      for (let round = 0; round < rounds; round++) {
        const started = Date.now();
        // Straight at the replicas, alternating, so both race on the same family.
        const answers: (Answer & { ms: number })[] = await Promise.all(
          Array.from({ length: opts.clients }, (_, i) => refreshAt(`${topo.gateways[i % 2]!.base}/orgs/gw`, grant.clientId, current).then((a) => ({ ...a, ms: Date.now() - started }))),
        );
        attempted += answers.length;
        const ok = answers.filter((a) => a.status === 200);
        succeeded += ok.length;
        for (const a of answers) if (a.status !== 200) fail(`refresh: http ${a.status} ${String(a.body.error ?? '')}`.trim());
        const issued = new Set(ok.map((a) => String(a.body.refresh_token)));
        slowestMs = Math.max(slowestMs, ...answers.map((a) => a.ms));
        if (issued.size === 1 && !issued.has(current)) roundsWithOneWinner++;
        notes.push(`round ${round + 1}: ${ok.length}/${answers.length} answered 200, ${issued.size} distinct new refresh token(s), slowest answer ${Math.max(...answers.map((a) => a.ms))} ms`);
        if (issued.size !== 1) break;
        current = [...issued][0]!;
        lastAccess = ok.map((a) => String(a.body.access_token));
      }

      // Every access token the last storm handed out is good on the MCP path, through the balancer: half through real
      // SDK clients (mixed revisions), the rest as plain requests.
      const sdkCount = Math.min(lastAccess.length, opts.short ? 4 : 10);
      const checks = await Promise.all(
        lastAccess.map(async (token, i) => {
          if (i < sdkCount) return sdkWhoami(mcpUrl, token, i % 2 === 1).then((t) => t.includes('alice'), () => false);
          const a = await mcpWhoami(mcpUrl, token);
          return a.status === 200 && JSON.stringify(a.body).includes('alice');
        }),
      );
      attempted += checks.length;
      succeeded += checks.filter(Boolean).length;
      for (const c of checks) if (!c) fail('mcp whoami with a stormed access token');

      // The family is alive: the last refresh token rotates once more.
      const after = await refreshAt(topo.gwIssuer, grant.clientId, current);
      attempted++;
      const familyAlive = after.status === 200;
      if (familyAlive) succeeded++;
      else fail(`final refresh: http ${after.status} ${String(after.body.error ?? '')}`);
      // A made-up token must never be answered 200.
      const bogus = await mcpWhoami(mcpUrl, `mcp_at.${'A'.repeat(43)}`);
      if (bogus.status === 200) unauthenticated200++;

      notes.push(`${rounds} storms of ${opts.clients} concurrent refreshes (replicas alternating); rounds with exactly one rotation: ${roundsWithOneWinner}/${rounds}; slowest answer ${slowestMs} ms (grace ${GRACE_SECONDS} s)`);
      notes.push(`${checks.filter(Boolean).length}/${checks.length} access tokens of the last storm answered whoami as alice (${sdkCount} through SDK clients); final refresh ${after.status}; a made-up token got ${bogus.status}`);
      const met = roundsWithOneWinner === rounds && slowestMs <= GRACE_SECONDS * 1000 && checks.every(Boolean) && familyAlive && unauthenticated200 === 0 && Object.keys(failedByKind).length === 0;
      const result: ScenarioResult = {
        name: '6 refresh storm',
        target: TARGET,
        attempted,
        succeeded,
        failedByKind,
        sessionsLost: 0,
        familiesRevoked: familyAlive ? 0 : 1,
        recoverMs: null,
        unauthenticated200,
        met,
        notes,
      };
      return result;
    } finally {
      await browser.close().catch(() => undefined);
      await topo.stop();
    }
  },
};
