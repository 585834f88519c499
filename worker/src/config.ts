import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { opsConfigSchema } from '@kmg/shared/ops';

/** Per-cluster safety policy. Annotations are policy: write tools are dropped at registration and re-checked in handlers. */
export const policySchema = z
  .object({
    readOnly: z.boolean().default(false),
    nonDestructive: z
      .boolean()
      .default(false)
      .describe('Hide tools that always destroy (deletes, exec); keep scale, patch and apply but refuse each call that would scale to 0 or remove a field'),
    tools: z.object({ allow: z.array(z.string()).optional(), deny: z.array(z.string()).default([]) }).default({ deny: [] }),
    kinds: z.object({ allow: z.array(z.string()).optional(), deny: z.array(z.string()).default([]) }).default({ deny: [] }),
    /** `namespace/name` of Secrets whose values `resources_get` may show. Nothing else ever reveals a value. */
    revealSecrets: z.array(z.string().regex(/^[a-z0-9.-]+\/[a-z0-9.-]+$/, 'must be namespace/name')).default([]),
  })
  .default({ readOnly: false, nonDestructive: false, tools: { deny: [] }, kinds: { deny: [] }, revealSecrets: [] });
export type Policy = z.infer<typeof policySchema>;

export const clusterSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'lowercase letters, digits and dashes'),
    server: z.url().optional(),
    caFile: z.string().optional(),
    caData: z.string().optional(),
    insecureSkipTlsVerify: z.boolean().default(false),
    identity: z.enum(['bearer', 'impersonation', 'kubeconfig']),
    /** impersonation: the worker's own service-account token, re-read from this file so rotation works. */
    serviceAccountTokenFile: z.string().optional(),
    /**
     * kubeconfig identity: file and context (defaults: KUBECONFIG / ~/.kube/config and its current context).
     * impersonation: instead of serviceAccountTokenFile, the impersonating identity's server and credentials
     * (client certificate, token or exec plugin) come from this file and context.
     */
    kubeconfig: z.string().optional(),
    context: z.string().optional(),
    policy: policySchema,
  })
  .superRefine((c, ctx) => {
    const impersonatorKubeconfig = c.identity === 'impersonation' && c.kubeconfig !== undefined;
    if (c.identity !== 'kubeconfig' && !c.server && !impersonatorKubeconfig) ctx.addIssue({ code: 'custom', path: ['server'], message: `required for identity ${c.identity}` });
    if (c.identity === 'impersonation' && !c.serviceAccountTokenFile && !c.kubeconfig)
      ctx.addIssue({ code: 'custom', path: ['serviceAccountTokenFile'], message: 'required for identity impersonation (or kubeconfig)' });
    if (c.identity === 'impersonation' && c.serviceAccountTokenFile && c.kubeconfig)
      ctx.addIssue({ code: 'custom', path: ['kubeconfig'], message: 'give serviceAccountTokenFile or kubeconfig, not both' });
    if (c.identity === 'bearer' && (c.kubeconfig || c.context))
      ctx.addIssue({ code: 'custom', path: ['kubeconfig'], message: 'bearer identity uses the caller\'s token, not a kubeconfig' });
    if (c.caFile && c.caData) ctx.addIssue({ code: 'custom', path: ['caData'], message: 'give caFile or caData, not both' });
  });
export type ClusterConfig = z.infer<typeof clusterSchema>;

export const assertionConfigSchema = z
  .object({
    issuer: z.string().min(1),
    audience: z.string().min(1),
    jwksUrl: z.url().optional(),
    /** PEM (SPKI) or a JWK as JSON. */
    publicKey: z.string().optional(),
  })
  .refine((a) => Boolean(a.jwksUrl) !== Boolean(a.publicKey), { message: 'give exactly one of jwksUrl or publicKey', path: ['jwksUrl'] });
export type AssertionConfig = z.infer<typeof assertionConfigSchema>;

export const workerConfigSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(8080),
    /** Host header values accepted on /mcp besides loopback names (DNS-rebinding protection). */
    allowedHosts: z.array(z.string()).default([]),
    /** Origin hostnames accepted when a browser sends Origin. */
    allowedOrigins: z.array(z.string()).default([]),
    clusters: z.array(clusterSchema).min(1),
    defaultCluster: z.string().optional(),
    assertion: assertionConfigSchema.optional(),
    byteBudget: z.coerce.number().int().min(1024).max(16 * 1024 * 1024).default(64 * 1024),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    stdio: z.boolean().default(false),
    /** Health, metrics, audit and graceful-shutdown settings (shared with the gateway). */
    ops: opsConfigSchema.prefault({}),
  })
  .superRefine((c, ctx) => {
    const names = new Set<string>();
    c.clusters.forEach((cl, i) => {
      if (names.has(cl.name)) ctx.addIssue({ code: 'custom', path: ['clusters', i, 'name'], message: `duplicate cluster ${cl.name}` });
      names.add(cl.name);
      if (cl.identity === 'impersonation' && !c.assertion)
        ctx.addIssue({ code: 'custom', path: ['assertion'], message: `required because cluster ${cl.name} uses impersonation` });
      if (cl.identity === 'kubeconfig' && !c.stdio && !isLoopback(c.host))
        ctx.addIssue({ code: 'custom', path: ['clusters', i, 'identity'], message: 'kubeconfig identity is for stdio or loopback use only' });
    });
    if (c.defaultCluster && !names.has(c.defaultCluster))
      ctx.addIssue({ code: 'custom', path: ['defaultCluster'], message: `no cluster named ${c.defaultCluster}; clusters are: ${[...names].join(', ')}` });
  });
export type WorkerConfig = z.infer<typeof workerConfigSchema>;

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid worker configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export function parseWorkerConfig(raw: unknown): WorkerConfig {
  const parsed = workerConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return parsed.data;
}

/**
 * Builds the raw config from argv and env (the only place that reads them):
 * `--config file.yaml` (or KMG_WORKER_CONFIG), else a single cluster from env
 * (KUBE_APISERVER_URL, KUBE_CA_FILE, WORKER_IDENTITY, ...). `--stdio` uses the local kubeconfig.
 */
export function loadWorkerConfig(argv: string[], env: NodeJS.ProcessEnv): WorkerConfig {
  const stdio = argv.includes('--stdio');
  const configIdx = argv.indexOf('--config');
  const file = configIdx >= 0 ? argv[configIdx + 1] : env.KMG_WORKER_CONFIG;
  let raw: Record<string, unknown>;
  if (file) {
    raw = (parseYaml(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
  } else if (stdio || !env.KUBE_APISERVER_URL) {
    raw = {
      clusters: [{ name: 'local', identity: 'kubeconfig', ...(env.KUBECONFIG ? { kubeconfig: env.KUBECONFIG.split(':')[0] } : {}) }],
    };
  } else {
    const identity = env.WORKER_IDENTITY ?? 'bearer';
    raw = {
      clusters: [
        {
          name: env.WORKER_CLUSTER_NAME ?? 'default',
          server: env.KUBE_APISERVER_URL,
          ...(env.KUBE_CA_FILE ? { caFile: env.KUBE_CA_FILE } : {}),
          identity,
          ...(env.WORKER_SA_TOKEN_FILE ? { serviceAccountTokenFile: env.WORKER_SA_TOKEN_FILE } : {}),
          policy: {
            readOnly: env.WORKER_READ_ONLY === 'true',
            nonDestructive: env.WORKER_NON_DESTRUCTIVE === 'true',
          },
        },
      ],
      ...(env.WORKER_ASSERTION_ISSUER
        ? {
            assertion: {
              issuer: env.WORKER_ASSERTION_ISSUER,
              audience: env.WORKER_ASSERTION_AUDIENCE,
              ...(env.WORKER_ASSERTION_JWKS_URL ? { jwksUrl: env.WORKER_ASSERTION_JWKS_URL } : {}),
              ...(env.WORKER_ASSERTION_PUBLIC_KEY ? { publicKey: env.WORKER_ASSERTION_PUBLIC_KEY } : {}),
            },
          }
        : {}),
    };
  }
  if (env.PORT !== undefined) raw.port = env.PORT;
  if (env.HOST !== undefined) raw.host = env.HOST;
  if (env.WORKER_BYTE_BUDGET !== undefined) raw.byteBudget = env.WORKER_BYTE_BUDGET;
  if (env.LOG_LEVEL !== undefined) raw.logLevel = env.LOG_LEVEL;
  if (env.WORKER_ALLOWED_HOSTS) raw.allowedHosts = env.WORKER_ALLOWED_HOSTS.split(',').map((s) => s.trim());
  const portIdx = argv.indexOf('--port');
  if (portIdx >= 0) raw.port = argv[portIdx + 1];
  if (stdio) raw.stdio = true;
  return parseWorkerConfig(raw);
}
