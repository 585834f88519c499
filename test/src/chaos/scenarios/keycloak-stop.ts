// Scenario 5: Keycloak stops under load (for the gateways only: their connections to it go through a proxy the
// scenario cuts; the shared Keycloak stays up). Users whose exchanged token is cached keep being served; a user
// with nothing cached gets 503 + Retry-After, and so does a refresh that needs Keycloak, without consuming the
// refresh token; within 5 s of Keycloak's return both work again.
import { loadStackEnv } from '../../stack/env.js';
import { keycloakCut } from '../keycloak-cut.js';
import { mcpWhoami, refreshAt, withFacadeRig, type Answer, type FacadeGrant } from '../facade.js';
import type { Scenario } from '../scenario.js';
import { sleep } from '../scenario.js';
import { firstServedSend } from '../redis-fault.js';
import { resultOf } from './common.js';

const TARGET = 'Keycloak cut: clients with a cached exchange keep being served; a user with nothing cached and a refresh that needs Keycloak get 503 + Retry-After (never 200, never 500); the refresh token refused meanwhile still works after; all served again within 5 s of Keycloak returning; 0 families revoked';

const kind = (a: Answer) => (a.status === 503 ? (a.retryAfter ? '503 + Retry-After' : '503 without Retry-After') : a.status === 0 ? 'no answer' : `${a.status}${a.body.error ? ` ${String(a.body.error)}` : ''}`);

export const keycloakStop: Scenario = {
  name: 'keycloak-stop',
  target: TARGET,
  async run(opts) {
    const s = opts.short;
    const env = loadStackEnv();
    const kc = await keycloakCut(env.KEYCLOAK_URL);
    try {
      // Every gateway refresh needs Keycloak (the upstream token always counts as about to expire).
      // A 60 s grace window: on a starved machine a refresh's answer can take 30 s and be retried.
      const topology = { facade: { upstreamRefreshSkewSeconds: 100_000, refreshGraceSeconds: 60 }, gatewayNodeArgs: kc.gatewayNodeArgs, gatewayEnv: kc.gatewayEnv };
      // alice refreshes; bob is signed in but makes no MCP call before the cut (nothing cached for him in org gw); carol
      // gives the Keycloak-up baseline.
      return await withFacadeRig(opts, { longCallSeconds: s ? 4 : 10, pauseMs: s ? 300 : 200 }, topology, ['alice', 'bob', 'carol'], async ({ topo, load, grants }) => {
        const mcpUrl = `${topo.gwIssuer}/mcp`;
        const [first, newcomer, baseline] = grants as [FacadeGrant, FacadeGrant, FacadeGrant];
        // With Keycloak up, the same two requests: how long they take on this machine (the baseline for recovery).
        let t = Date.now();
        const firstRefresh = await refreshAt(topo.gwIssuer, first.clientId, first.tokens.refresh_token);
        const refreshUpMs = Date.now() - t;
        t = Date.now();
        const firstCall = await mcpWhoami(mcpUrl, baseline.tokens.access_token);
        const newcomerUpMs = Date.now() - t;
        if (firstRefresh.status !== 200 || firstCall.status !== 200) throw new Error(`with Keycloak up: refresh ${firstRefresh.status}, first MCP call ${firstCall.status}`);
        const refresher = { ...first, tokens: firstRefresh.body as unknown as typeof first.tokens };
        await sleep(s ? 2000 : 10_000);

        await kc.cut();
        const cutAt = Date.now();
        opts.report(`Keycloak cut at ${new Date(cutAt).toISOString()}`);
        const newUser: Answer[] = [];
        const refresh: Answer[] = [];
        const until = cutAt + (s ? 4000 : 15_000);
        while (Date.now() < until) {
          newUser.push(await mcpWhoami(mcpUrl, newcomer.tokens.access_token));
          refresh.push(await refreshAt(topo.gwIssuer, refresher.clientId, refresher.tokens.refresh_token));
          await sleep(500);
        }
        const duringLoad = load.failures(cutAt).filter((f) => f.failure !== 'tool error');

        await kc.restore();
        const backAt = Date.now();
        opts.report('Keycloak restored');
        // The same requests again, until each is served: the newcomer's first exchange, and the refresh token that was
        // refused all along (not consumed: it still rotates). Each attempt's timing goes to the notes.
        const attempts: string[] = [];
        // ms: when the first attempt that succeeded was sent (how long the gateway kept failing); its answer's latency
        // is the machine's and is in the notes with the baseline.
        const retry = async (what: string, call: () => Promise<Answer>): Promise<{ ms: number; latency: number; answer: Answer } | null> => {
          while (Date.now() - backAt < 30_000) {
            const start = Date.now();
            const a = await call();
            attempts.push(`${what} ${kind(a)} +${start - backAt}..${Date.now() - backAt} ms`);
            if (a.status === 200) return { ms: start - backAt, latency: Date.now() - start, answer: a };
            // A lost answer (no answer in 30 s on a starved machine) is retried like a 503: a refresh whose answer was
            // lost gets the rotated token within the grace window.
            if (a.status !== 503 && a.status !== 0) return null;
            await sleep(100);
          }
          return null;
        };
        const [newUserBack, refreshBack] = await Promise.all([
          retry('newcomer', () => mcpWhoami(mcpUrl, newcomer.tokens.access_token)),
          retry('refresh', () => refreshAt(topo.gwIssuer, refresher.clientId, refresher.tokens.refresh_token)),
        ]);
        const newUserBackMs = newUserBack?.ms ?? null;
        const refreshBackMs = refreshBack?.ms ?? null;
        const rotated = refreshBack?.answer;
        await sleep(s ? 1000 : 5000);
        await load.stop();

        // Revoked or not is the grant's state, not whether this run saw the rotation: the newest access token it holds.
        const familyAlive = (await mcpWhoami(mcpUrl, rotated ? String(rotated.body.access_token) : refresher.tokens.access_token)).status === 200;
        const loadRecover = load.recoveryAfter(backAt);
        const loadSent = firstServedSend(load.records, backAt, (r) => r.client, (r) => !r.failure);
        const recoverMs = newUserBackMs === null || refreshBackMs === null || loadSent === null ? null : Math.max(newUserBackMs, refreshBackMs, loadSent);
        const tallyOf = (as: Answer[]) => as.reduce<Record<string, number>>((m, a) => ((m[kind(a)] = (m[kind(a)] ?? 0) + 1), m), {});
        const closed = (a: Answer) => a.status === 503 && !!a.retryAfter;
        const bound = s ? 30_000 : 5000;
        const notes = [
          `Keycloak cut for ${backAt - cutAt} ms (connections from both gateways refused; the shared Keycloak stayed up)`,
          `SDK load (cached exchanges) during the cut: ${duringLoad.length} failed calls${duringLoad.length ? ` (${duringLoad.slice(0, 5).map((f) => f.failure).join(', ')})` : ''}`,
          `a signed-in user with nothing cached, MCP whoami during the cut: ${JSON.stringify(tallyOf(newUser))}`,
          `a refresh that needs Keycloak, during the cut: ${JSON.stringify(tallyOf(refresh))}; the same refresh token after Keycloak returned: ${rotated ? 'rotated (200), so no failed attempt consumed it' : 'NOT accepted'}`,
          `attempts after Keycloak returned: ${attempts.slice(0, 12).join('; ')}`,
          `recovery (the first attempt that succeeded was sent this long after Keycloak returned; bound ${bound} ms): newcomer ${newUserBackMs === null ? 'NOT within 30 s' : `${newUserBackMs} ms (answer took ${newUserBack!.latency} ms)`}, refresh ${refreshBackMs === null ? 'NOT within 30 s' : `${refreshBackMs} ms (answer took ${refreshBack!.latency} ms)`}, SDK load ${loadSent === null ? 'NOT within the run' : `${loadSent} ms`} (every SDK client's answer by ${loadRecover === null ? 'n/a' : `${loadRecover} ms`})`,
          `baseline with Keycloak up on this machine: a refresh took ${refreshUpMs} ms, a signed-in user's first MCP call (refresh + exchange + whoami) ${newcomerUpMs} ms`,
        ];
        const unauthenticated200 = load.unauthenticated200 + newUser.filter((a) => a.status === 200).length;
        const met = duringLoad.length === 0 && newUser.length > 0 && newUser.every(closed) && refresh.length > 0 && refresh.every(closed) && !!rotated && familyAlive && recoverMs !== null && recoverMs <= bound && unauthenticated200 === 0 && load.sessionsLost === 0;
        return resultOf('5 Keycloak stop', TARGET, load, { met, notes, recoverMs, unauthenticated200, familiesRevoked: familyAlive ? 0 : 1 });
      });
    } finally {
      await kc.close();
    }
  },
};
