import { z } from 'zod';
import { opsConfigSchema } from '@kmg/shared/ops';
import { oauthGlobalSchema, oauthOrgSchema } from './oauth.js';
import { checkMcpOrg, mcpGlobalSchema, mcpOrgSchema } from './mcp.js';

/**
 * The gateway's one configuration file (YAML), validated at start. Each org is one MCP URL:
 * `/orgs/{name}/mcp`, or `/mcp` for the org named by `singleOrg`.
 * The OAuth half (issuer facade, Keycloak, clients, storage) lives in ./oauth.ts,
 * the MCP half (clusters, workers, exchange, policy) in ./mcp.ts.
 */
export const orgSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'org names are DNS labels: a-z, 0-9 and -'),
  })
  .extend(oauthOrgSchema.shape)
  .extend(mcpOrgSchema.shape);
export type OrgConfig = z.infer<typeof orgSchema>;

export const configSchema = z
  .object({
    /** Public base URL clients use, e.g. https://gw.example.com (no trailing slash). */
    publicUrl: z.url().transform((u) => u.replace(/\/+$/, '')),
    /** Allows an http:// publicUrl on a non-loopback host (development only; tokens would travel in clear). */
    development: z.boolean().default(false),
    listen: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.coerce.number().int().min(0).max(65535).default(8080),
        /** Longest a client may take to send its request headers. */
        headersTimeoutMs: z.coerce.number().int().positive().default(20_000),
        /**
         * Longest a client may take to send a whole request (headers and body) on every route; responses (MCP
         * streams, long tool calls) are not bounded by it.
         */
        requestTimeoutMs: z.coerce.number().int().positive().default(30_000),
      })
      .prefault({}),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** When set, this org is also served at /mcp and the root well-known paths. */
    singleOrg: z.string().optional(),
    orgs: z.array(orgSchema).min(1),
    /** Health, metrics and graceful-shutdown settings (shared with the worker; the audit stream is `audit`). */
    ops: opsConfigSchema.prefault({}),
  })
  .extend(oauthGlobalSchema.shape)
  .extend(mcpGlobalSchema.shape)
  .superRefine((cfg, ctx) => {
    const host = URL.canParse(cfg.publicUrl) ? new URL(cfg.publicUrl).hostname : '';
    if (!cfg.publicUrl.startsWith('https://') && !cfg.development && !['127.0.0.1', 'localhost', '[::1]'].includes(host)) {
      ctx.addIssue({ code: 'custom', path: ['publicUrl'], message: 'must be an https:// URL (http:// only on loopback or with development: true)' });
    }
    cfg.orgs.forEach((org, i) => checkMcpOrg(org, ['orgs', i], (path, message) => ctx.addIssue({ code: 'custom', path, message })));
    const names = new Set<string>();
    cfg.orgs.forEach((org, i) => {
      if (names.has(org.name)) ctx.addIssue({ code: 'custom', path: ['orgs', i, 'name'], message: `duplicate org name "${org.name}"` });
      names.add(org.name);
    });
    if (cfg.storage.redis && cfg.encryptionKeys.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['encryptionKeys'], message: 'with storage.redis set, encryptionKeys must list at least one 32-byte key (secrets in Redis are sealed)' });
    }
    cfg.encryptionKeys.forEach((k, i) => {
      const raw = k.key.startsWith('hex:') ? Buffer.from(k.key.slice(4), 'hex') : Buffer.from(k.key.replace(/^base64:/, ''), 'base64');
      if (raw.length !== 32) ctx.addIssue({ code: 'custom', path: ['encryptionKeys', i, 'key'], message: `must decode to 32 bytes (got ${raw.length}); generate with: openssl rand -base64 32` });
    });
    // Replicas share Redis; each would generate its own assertion key, and workers trust only the key they fetched.
    if (cfg.storage.redis && !cfg.identityAssertion.signingKeyFile && cfg.orgs.some((o) => o.clusters.some((c) => c.identity === 'impersonation'))) {
      ctx.addIssue({
        code: 'custom',
        path: ['identityAssertion', 'signingKeyFile'],
        message: 'impersonation clusters with storage.redis (several replicas) need identityAssertion.signingKeyFile, one PKCS#8 key shared by every replica (openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256); only a single in-memory gateway may generate its own',
      });
    }
    if (cfg.singleOrg && !names.has(cfg.singleOrg)) {
      ctx.addIssue({ code: 'custom', path: ['singleOrg'], message: `singleOrg "${cfg.singleOrg}" is not one of the orgs: ${[...names].join(', ')}` });
    }
  });
export type GatewayConfig = z.infer<typeof configSchema>;
