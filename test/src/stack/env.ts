// The stack's contract with every test: `.stack/env` (shell `KEY=VALUE`), written by `npm run stack -- up`.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Repo root: this file lives at test/{src,dist}/stack/env.{ts,js}. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
export const stackDir = path.join(repoRoot, '.stack');
export const stackEnvFile = path.join(stackDir, 'env');

const url = z.url();
/** Comma-separated URL list (WORKER_URLS, GATEWAY_URLS). */
const urlList = z
  .string()
  .transform((s) => s.split(',').map((u) => u.trim()).filter((u) => u.length > 0))
  .pipe(z.array(url).min(1));

export const stackEnvSchema = z.object({
  STACK_CA_FILE: z.string().min(1),
  REDIS_URL: url,
  REDIS_PORT: z.coerce.number().int().positive(),
  KEYCLOAK_URL: url,
  KEYCLOAK_REALM: z.string().min(1),
  KEYCLOAK_ISSUER: url,
  GATEWAY_CLIENT_ID: z.string().min(1),
  GATEWAY_CLIENT_SECRET: z.string().min(1),
  TEST_CLIENT_ID: z.string().min(1),
  TEST_CLIENT_SECRET: z.string().min(1),
  ALICE_PASSWORD: z.string().min(1),
  BOB_PASSWORD: z.string().min(1),
  CAROL_PASSWORD: z.string().min(1),
  KUBE_APISERVER_URL: url,
  KUBE_CA_FILE: z.string().min(1),
  KUBECONFIG_ADMIN: z.string().min(1),
  KUBE_AUDIENCE: z.string().min(1),
  /** Optional client scope to request in the exchange; its audience mapper makes `kubernetes` available. */
  KUBE_AUDIENCE_SCOPE: z.string().min(1),
  KEYCLOAK_ADMIN_USER: z.string().min(1),
  KEYCLOAK_ADMIN_PASSWORD: z.string().min(1),
  ETCD_URL: url,
  KWOK_URL: url,
  /** Log lines every kwok container prints come from this file. */
  KWOK_LOG_FILE: z.string().min(1),
  KWOK_NODES: z.string().min(1),
  /** metrics-server, serving metrics.k8s.io through the apiserver's aggregation layer. */
  METRICS_SERVER_URL: url,
  /** The value of secret team-a/web-credentials key `password` (masking tests). */
  SEED_SECRET_VALUE: z.string().min(1),
  // Added by later components (workers, gateways); absent until those exist.
  WORKER_URLS: urlList.optional(),
  GATEWAY_URLS: urlList.optional(),
  MCP_URL: url.optional(),
});

export type StackEnv = z.infer<typeof stackEnvSchema>;

/** Parses shell `KEY=VALUE` lines as written by formatEnvFile (values optionally single-quoted). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`malformed line in stack env file: ${line}`);
    const [, key, value] = m as unknown as [string, string, string];
    out[key] = value.startsWith("'") && value.endsWith("'") && value.length >= 2
      ? value.slice(1, -1).replace(/'\\''/g, "'")
      : value;
  }
  return out;
}

/** Formats a record as shell-sourceable `KEY='VALUE'` lines. */
export function formatEnvFile(vars: Record<string, string>): string {
  const lines = Object.entries(vars).map(([k, v]) => `${k}='${v.replace(/'/g, `'\\''`)}'`);
  return `# written by \`npm run stack -- up\`; source it or use loadStackEnv()\n${lines.join('\n')}\n`;
}

/** Raw variables of `.stack/env` (or undefined when the stack is not up). */
export function readStackEnvRaw(file = stackEnvFile): Record<string, string> | undefined {
  if (!existsSync(file)) return undefined;
  return parseEnvFile(readFileSync(file, 'utf8'));
}

/** The running stack's typed settings; throws a clear error when it is not up. */
export function loadStackEnv(file = process.env.KMG_STACK_ENV ?? stackEnvFile): StackEnv {
  const raw = readStackEnvRaw(file);
  if (!raw) {
    throw new Error(`stack env file ${file} is missing: bring the stack up with \`npm run stack -- up\``);
  }
  const parsed = stackEnvSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`stack env file ${file} is incomplete or invalid (${problems}); rerun \`npm run stack -- up\``);
  }
  return parsed.data;
}
