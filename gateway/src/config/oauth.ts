import { z } from 'zod';

export const MCP_SCOPES = ['mcp:tools:read', 'mcp:tools:write'] as const;
export type McpScope = (typeof MCP_SCOPES)[number];

const seconds = (def: number) => z.coerce.number().int().positive().default(def);

const preRegisteredClientSchema = z.object({
  client_id: z.string().min(1).max(200),
  /** Absent = public client (token_endpoint_auth_method none). */
  client_secret: z.string().min(16).optional(),
  client_name: z.string().max(200).optional(),
  redirect_uris: z.array(z.url()).min(1),
  scope: z.string().optional(),
  /** Pre-registered (trusted) clients may skip the consent page. */
  skipConsent: z.boolean().default(false),
});
export type PreRegisteredClient = z.infer<typeof preRegisteredClientSchema>;

/** Per org: `orgs[].oauth`. The gateway is the authorization server; Keycloak is the identity provider behind it. */
export const oauthOrgSchema = z.object({
  oauth: z
    .object({
      keycloak: z.object({
        /** Realm issuer, e.g. https://kc.example.com/realms/mcp. Discovery checks the issuer matches. */
        issuer: z.url(),
        clientId: z.string().min(1).default('mcp-gateway'),
        clientSecret: z.string().min(1),
        /** PEM bundle that signs Keycloak's TLS certificate (private CAs), without NODE_EXTRA_CA_CERTS. */
        caFile: z.string().optional(),
        scope: z.string().default('openid profile email'),
        /** Only for development against an http:// Keycloak. */
        allowInsecureHttp: z.boolean().default(false),
      }),
      registration: z
        .object({
          policy: z.enum(['open', 'initial-access-token', 'allow-listed']).default('open'),
          /** For policy initial-access-token: bearer tokens accepted on POST /register. */
          initialAccessTokens: z.array(z.string().min(16)).default([]),
          /** For policy allow-listed: redirect URI hosts allowed (loopback is always allowed). */
          allowedRedirectHosts: z.array(z.string().min(1)).default([]),
          /** A registration never used to obtain a token is forgotten after this long. */
          unusedClientTtlSeconds: seconds(24 * 3600),
          /** A used registration lives this long after its last token. */
          clientTtlSeconds: seconds(90 * 24 * 3600),
          maxRedirectUris: z.coerce.number().int().min(1).max(50).default(10),
        })
        .prefault({}),
      clientIdMetadataDocuments: z
        .object({
          /**
           * An https client_id names a metadata document the gateway fetches. Unset: on, except under the
           * initial-access-token registration policy (a document needs no token, so it would bypass that policy).
           * Under allow-listed, the document's redirect hosts must be on the allow list like any registration's.
           */
          enabled: z.boolean().optional().describe('https client_id URLs as clients; unset = on unless registration.policy is initial-access-token'),
          /** Tests serve documents from 127.0.0.1; production must keep this false (SSRF). */
          allowPrivateAddresses: z.boolean().default(false),
          timeoutMs: z.coerce.number().int().positive().default(5000),
          maxBytes: z.coerce.number().int().positive().default(5120),
          cacheSeconds: seconds(300),
          /** Extra CA (PEM file) trusted for document hosts, besides the system roots. */
          caFile: z.string().optional(),
        })
        .prefault({}),
      clients: z.array(preRegisteredClientSchema).default([]),
      tokens: z
        .object({
          accessTokenTtlSeconds: seconds(900),
          refreshTokenTtlSeconds: seconds(30 * 24 * 3600),
          authorizationCodeTtlSeconds: seconds(60),
          /** A rotated-out refresh token still works this long (a lost response must not log the user out). */
          refreshGraceSeconds: z.coerce.number().int().min(0).max(120).default(10),
          /** Keycloak tokens are refreshed this long before they expire. */
          upstreamRefreshSkewSeconds: z.coerce.number().int().min(0).default(30),
        })
        .prefault({}),
      consent: z
        .object({
          /** How long an approval is remembered per user and client. */
          rememberSeconds: seconds(180 * 24 * 3600),
        })
        .prefault({}),
      /** Scopes offered; a client asking none gets all of them (subject to consent). */
      scopes: z.array(z.enum(MCP_SCOPES)).min(1).default([...MCP_SCOPES]),
      /** How long a login (authorize -> Keycloak -> consent) may take. */
      loginTtlSeconds: seconds(600),
    })
    .optional(),
});
export type OAuthOrgConfig = NonNullable<z.infer<typeof oauthOrgSchema>['oauth']>;

const rateLimitSchema = (points: number, windowSeconds: number) =>
  z.object({ points: z.coerce.number().int().positive().default(points), windowSeconds: seconds(windowSeconds) }).prefault({});

/** Global: storage, keys for secrets at rest, proxy trust, rate limits. */
export const oauthGlobalSchema = z.object({
  storage: z
    .object({
      /** Absent = in-memory (one replica only). */
      redis: z.object({ url: z.string().regex(/^(rediss?|rediss?-sentinel|rediss?-cluster):\/\//, 'a redis://, rediss://, redis-sentinel:// or redis-cluster:// URL'), keyPrefix: z.string().default('kmg:') }).optional(),
    })
    .prefault({}),
  /** AES-256-GCM keys for secrets at rest; the first seals, all open (rotation). Key: 32 bytes, base64 or `hex:…`. */
  encryptionKeys: z
    .array(z.object({ id: z.string().regex(/^[A-Za-z0-9_-]+$/), key: z.string().min(1) }))
    .default([]),
  /** Express "trust proxy" (hops or subnet list), so rate limits see the client's address behind a load balancer. */
  trustProxy: z.union([z.boolean(), z.number().int().min(0), z.string()]).default(false),
  rateLimits: z
    .object({
      register: rateLimitSchema(20, 3600),
      authorize: rateLimitSchema(60, 60),
      token: rateLimitSchema(120, 60),
    })
    .prefault({}),
  /** Largest accepted form/JSON body on OAuth endpoints. */
  bodyLimit: z.string().default('16kb'),
});
