import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { agentHttpCheck, anyOfCheck, type ReadinessCheck } from '@kmg/shared/ops';
import type { GatewayConfig } from '../config/schema.js';
import type { KvStore } from '../store/kv.js';

/**
 * What /readyz checks on a gateway. Only the store (Redis) is critical: without it this replica can serve
 * nothing. Each org's Keycloak (discovery document) and each cluster's workers (some worker answering its
 * health path) are reported — "degraded" in the ops listener's /readyz and in
 * kmg_readiness_check_up{check,critical="false"} — but never make the replica unready: every replica
 * shares them, so one cluster's outage would otherwise take every org down. A call to that cluster is
 * answered with an error naming it instead.
 */
export function gatewayReadinessChecks(config: GatewayConfig, store: Pick<KvStore, 'ping'>): ReadinessCheck[] {
  const checks: ReadinessCheck[] = [];
  if (config.storage.redis) checks.push({ name: 'redis', check: () => store.ping() });

  const issuers = new Map<string, string | undefined>();
  for (const org of config.orgs) {
    if (org.oauth) issuers.set(org.oauth.keycloak.issuer, org.oauth.keycloak.caFile);
    if (org.resourceServer) issuers.set(org.resourceServer.issuer, org.resourceServer.caFile);
  }
  for (const [issuer, caFile] of issuers) {
    const agent = caFile ? new HttpsAgent({ ca: readFileSync(caFile, 'utf8'), keepAlive: true }) : undefined;
    checks.push(
      {
        ...agentHttpCheck(`keycloak:${new URL(issuer).host}${new URL(issuer).pathname}`, new URL(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`), {
          ...(agent ? { agent } : {}),
          accept: (s) => s >= 200 && s < 300,
        }),
        // Reported, not fatal: every replica shares Keycloak, and cached exchanges keep serving without it.
        critical: false,
      },
    );
  }

  for (const org of config.orgs) {
    for (const cluster of org.clusters) {
      const workers = Array.isArray(cluster.workers) ? cluster.workers : [cluster.workers];
      checks.push({
        ...anyOfCheck(
          `workers:${org.name}/${cluster.name}`,
          workers.map((w) => agentHttpCheck(w, new URL(cluster.healthCheck.path, w), { accept: (s) => s >= 200 && s < 300 })),
        ),
        critical: false,
      });
    }
  }
  return checks;
}
