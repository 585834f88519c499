import { z } from 'zod';

/**
 * Clusters, workers, token exchange and policy settings (owned by the MCP path).
 *
 * An org's MCP URL serves its first cluster (or the one marked `default`); every other cluster is
 * served at `{mcpUrl}/clusters/{name}` (same token, same audience: the org's MCP URL).
 */

const toolName = z.string().min(1);

/** How the gateway gets a token for a cluster from the user's Keycloak token (RFC 8693). */
export const exchangeSchema = z.object({
  /**
   * keycloak-standard: Keycloak 26.2+ standard token exchange (audience only, no `resource`);
   * rfc8693: a plain RFC 8693 server (sends `resource` too when configured).
   */
  strategy: z.enum(['keycloak-standard', 'rfc8693']).default('keycloak-standard'),
  /** Token endpoint, e.g. https://kc.example.com/realms/mcp/protocol/openid-connect/token. */
  tokenEndpoint: z.url(),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  /** PEM file of the CA that signed the token endpoint's certificate (private CAs). */
  caFile: z.string().optional(),
  /** Sent as `resource` by the rfc8693 strategy. */
  resource: z.string().optional(),
  timeoutMs: z.coerce.number().int().positive().default(5000),
  /** Cached exchanged tokens are dropped this many seconds before they expire. */
  refreshSkewSeconds: z.coerce.number().int().min(0).default(30),
});
export type ExchangeConfig = z.infer<typeof exchangeSchema>;

export const clusterSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'cluster names are DNS labels: a-z, 0-9 and -'),
    default: z.boolean().default(false),
    /** Worker URLs: a base URL (MCP endpoint at `workerPath`) or a full MCP URL; a list or a comma-separated string (WORKER_URLS). */
    workers: z.union([
      z.array(z.url()).min(1),
      z
        .string()
        .transform((s) => s.split(',').map((u) => u.trim()).filter(Boolean))
        .pipe(z.array(z.url()).min(1)),
    ]),
    /** Path of the MCP endpoint on each worker. */
    workerPath: z.string().startsWith('/').default('/mcp'),
    /** The audience the exchanged token is made for (the apiserver's OIDC audience). */
    audience: z.string().min(1).default('kubernetes'),
    /**
     * bearer: the worker gets the exchanged token; impersonation: a gateway-signed identity assertion;
     * worker: no credential, the worker acts with its own kubeconfig (loopback workers only, `npm start` on
     * a certificate-based kubeconfig).
     */
    identity: z.enum(['bearer', 'impersonation', 'worker']).default('bearer'),
    /**
     * impersonation: the Kubernetes user is `usernamePrefix` + Keycloak's preferred_username and each group is
     * `groupPrefix` + the Keycloak group, the same names bearer-mode apiservers derive from the token (the
     * AuthenticationConfiguration's claim prefixes, `oidc:` in the examples), so a user is one Kubernetes name in
     * both modes and no IdP name can become a `system:` user or group. An empty prefix passes names unchanged;
     * `system:` names are refused either way.
     */
    usernamePrefix: z.string().max(64).default('oidc:').describe('impersonation: Kubernetes user = prefix + preferred_username (match the apiserver claim prefix of bearer mode)'),
    groupPrefix: z.string().max(64).default('oidc:').describe('impersonation: Kubernetes group = prefix + Keycloak group; system: names are refused'),
    /** Overrides the org's `exchange` for this cluster. */
    exchange: exchangeSchema.optional(),
    /**
     * Scopes asked for in the exchange. Empty with keycloak-standard: the scope named like the audience (Keycloak
     * releases an audience only through a client scope with an audience mapper, e.g. the realm's `kubernetes`).
     */
    exchangeScopes: z.array(z.string()).default([]),
    healthCheck: z
      .object({
        path: z.string().startsWith('/').default('/healthz'),
        // A dead worker (connection refused) leaves the pool at the next check: 1 s keeps that within the 2 s the
        // chaos suite holds it to (scenario 3) for one small GET per worker per second per replica.
        intervalMs: z.coerce.number().int().positive().default(1000).describe('Health-check period; a worker that fails a check is out until one passes'),
        timeoutMs: z.coerce.number().int().positive().default(1000).describe('A health check slower than this fails'),
      })
      .prefault({}),
  });
export type ClusterConfig = z.infer<typeof clusterSchema>;

export const policySchema = z
  .object({
    /** Only read-only tools (annotations.readOnlyHint) are listed and callable. */
    readOnly: z.boolean().default(false),
    /** When non-empty, only these tools exist for this org. */
    allowTools: z.array(toolName).default([]),
    denyTools: z.array(toolName).default([]),
    /** Scope each kind of tool needs. */
    readScope: z.string().default('mcp:tools:read'),
    writeScope: z.string().default('mcp:tools:write'),
    /** Extra rules: a scope that a named tool additionally needs. */
    toolScopes: z.record(toolName, z.string()).default({}),
  })
  .prefault({});
export type PolicyConfig = z.infer<typeof policySchema>;

/** The OAuth endpoints' limit shape (`points` per `windowSeconds`); `requests` is read as `points` (older configs). */
const rateSchema = z.preprocess(
  (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const { requests, ...rest } = v as Record<string, unknown>;
    return requests !== undefined && rest.points === undefined ? { ...rest, points: requests } : v;
  },
  z.object({
    /** Requests allowed per window; 0 disables. */
    points: z.coerce.number().int().min(0),
    windowSeconds: z.coerce.number().int().positive().default(60),
  }),
);

export const rateLimitsSchema = z
  .object({
    perUser: rateSchema.default({ points: 600, windowSeconds: 60 }),
    perClient: rateSchema.default({ points: 3000, windowSeconds: 60 }),
  })
  .prefault({});

export const resourceServerSchema = z.object({
  /** Keycloak issuer, e.g. https://kc.example.com/realms/mcp. */
  issuer: z.url(),
  /** Accepted `aud` values; defaults to the org's MCP URL. */
  audience: z.array(z.string().min(1)).optional(),
  /** Defaults to `{issuer}/protocol/openid-connect/certs`. */
  jwksUri: z.url().optional(),
  algorithms: z.array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'])).default(['RS256', 'ES256']),
  caFile: z.string().optional(),
  clockToleranceSeconds: z.coerce.number().int().min(0).default(5),
  /** Scopes advertised in the protected-resource metadata. */
  scopesSupported: z.array(z.string()).default(['openid', 'mcp:tools:read', 'mcp:tools:write']),
});
export type ResourceServerConfig = z.infer<typeof resourceServerSchema>;

export const mcpOrgSchema = z.object({
  /** gateway: tokens the gateway issued (OAuth facade); resource-server: Keycloak JWTs validated here. */
  mode: z.enum(['gateway', 'resource-server']).default('gateway'),
  resourceServer: resourceServerSchema.optional(),
  /** Default exchange settings for this org's bearer clusters. */
  exchange: exchangeSchema.optional(),
  clusters: z.array(clusterSchema).min(1),
  policy: policySchema,
  rateLimits: rateLimitsSchema,
  /** Browser origins allowed to call the MCP URL (CORS and Origin validation). Requests without Origin pass. */
  allowedOrigins: z.array(z.string()).default([]),
  /** Idle lifetime of an Mcp-Session-Id. */
  sessionTtlSeconds: z.coerce.number().int().positive().default(3600),
});
export type McpOrgConfig = z.infer<typeof mcpOrgSchema>;

export const mcpGlobalSchema = z.object({
  identityAssertion: z
    .object({
      /** PEM (PKCS#8) private key file; the dev runner generates one. ES256 unless `alg` says otherwise. */
      signingKeyFile: z.string().optional(),
      alg: z.enum(['ES256', 'EdDSA', 'RS256']).default('ES256'),
      keyId: z.string().default('kmg-identity-1'),
      /** `iss` of assertions; defaults to the public URL. */
      issuer: z.string().optional(),
      ttlSeconds: z.coerce.number().int().min(10).max(300).default(120),
    })
    .prefault({}),
  audit: z
    .object({
      /** stdout, or a file path to append JSON lines to. */
      destination: z.string().default('stdout'),
    })
    .prefault({}),
  mcp: z
    .object({
      /** Largest request body accepted on an MCP URL. */
      maxBodyBytes: z.coerce.number().int().positive().default(4 * 1024 * 1024),
      /** An SSE comment is sent after this much silence so an active stream is not cut by idle timeouts. */
      keepAliveMs: z.coerce.number().int().positive().default(15_000),
      /** Open GET (SSE) streams one user may hold on one replica; one more is answered 429 with Retry-After. */
      maxStreamsPerUser: z.coerce.number().int().positive().default(8),
    })
    .prefault({}),
});
export type McpGlobalConfig = z.infer<typeof mcpGlobalSchema>;

/** Cross-field checks the org schema cannot express alone; run by the gateway config's superRefine (config/schema.ts). */
export function checkMcpOrg(org: McpOrgConfig & { oauth?: unknown }, path: (string | number)[], addIssue: (path: (string | number)[], message: string) => void): void {
  if (org.mode === 'resource-server' && !org.resourceServer) {
    addIssue([...path, 'resourceServer'], 'resource-server mode needs resourceServer.issuer');
  }
  const names = new Set<string>();
  let defaults = 0;
  org.clusters.forEach((c, i) => {
    if (names.has(c.name)) addIssue([...path, 'clusters', i, 'name'], `duplicate cluster name "${c.name}"`);
    names.add(c.name);
    if (c.default) defaults++;
    if (c.identity === 'worker') {
      const urls = c.workers as string[];
      if (!urls.every((u) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(u).hostname))) {
        addIssue([...path, 'clusters', i, 'identity'], 'identity "worker" is for workers on this machine (loopback URLs) only');
      }
    }
    if (c.identity === 'bearer' && !c.exchange && !org.exchange && !org.oauth) {
      addIssue([...path, 'clusters', i, 'exchange'], `cluster "${c.name}" uses bearer identity and needs exchange settings (here or on the org)`);
    }
  });
  if (defaults > 1) addIssue([...path, 'clusters'], 'at most one cluster may be default');
}

export function defaultCluster(org: McpOrgConfig): ClusterConfig {
  return org.clusters.find((c) => c.default) ?? org.clusters[0]!;
}
