import { z } from 'zod';

/**
 * Operations settings shared by the gateway and the worker; each embeds it as `ops:` in its config
 * file (`ops: opsConfigSchema.prefault({})`), so every field has a default. (The audit stream's
 * destination is the gateway's own `audit` key: the gateway is where tool calls are audited.)
 */
export const opsConfigSchema = z.object({
  shutdown: z
    .object({
      /** Longest wait for in-flight tool calls and streams after SIGTERM before closing them. */
      timeoutSeconds: z.coerce.number().min(0).max(3600).default(30).describe('Longest wait for in-flight calls and streams after SIGTERM'),
      /** Wait between turning unready and closing the listener, so load balancers stop routing first. */
      drainDelaySeconds: z.coerce.number().min(0).max(300).default(0).describe('Wait after turning unready before closing the listener'),
    })
    .prefault({}),
  readiness: z
    .object({
      timeoutMs: z.coerce.number().int().min(50).max(60_000).default(2_000).describe('Timeout of each /readyz dependency check'),
      /** Probes and scrapers within this window share one run of the checks (each pings Redis, Keycloak, workers). */
      cacheMs: z.coerce.number().int().min(0).max(10_000).default(1_000).describe('How long a /readyz result is reused before the checks run again'),
    })
    .prefault({}),
  metrics: z
    .object({
      enabled: z.boolean().default(true).describe('Serve Prometheus metrics on /metrics'),
      /** Node.js process metrics (heap, event loop lag, GC) beside the application series. */
      processMetrics: z.boolean().default(true).describe('Include Node.js process metrics'),
      /** Serve /metrics on this port only (not on the main port), e.g. so an Ingress never exposes it. */
      port: z.coerce.number().int().min(0).max(65535).optional().describe('Serve /metrics on this separate port instead of the main one'),
    })
    .prefault({}),
});
export type OpsConfig = z.infer<typeof opsConfigSchema>;
