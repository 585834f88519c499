import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** The cluster `npm start` serves: the local stack's when it is up, else the current kubeconfig context. */
export interface DevCluster {
  source: string;
  name: string;
  server: string;
  caFile?: string;
  caData?: string;
  insecureSkipTlsVerify: boolean;
  /** Bearer token of the kubeconfig user, when it has one: workers impersonate dev users with it. */
  token?: string;
  kubeconfig: string;
  context: string;
}

export class DevClusterError extends Error {}

const kubeconfigSchema = z.object({
  'current-context': z.string().optional(),
  contexts: z.array(z.object({ name: z.string(), context: z.object({ cluster: z.string(), user: z.string() }) })).default([]),
  clusters: z
    .array(
      z.object({
        name: z.string(),
        cluster: z.object({
          server: z.string(),
          'certificate-authority': z.string().optional(),
          'certificate-authority-data': z.string().optional(),
          'insecure-skip-tls-verify': z.boolean().optional(),
        }),
      }),
    )
    .default([]),
  users: z
    .array(z.object({ name: z.string(), user: z.object({ token: z.string().optional(), tokenFile: z.string().optional() }).passthrough().nullable().default({}) }))
    .default([]),
});

/** Reads a kubeconfig file (first of KUBECONFIG's list, else ~/.kube/config) and resolves its current context. */
export function clusterFromKubeconfig(path: string, source: string): DevCluster {
  if (!existsSync(path)) {
    throw new DevClusterError(
      `no kubeconfig at ${path}. npm start serves the cluster of your current kubeconfig context: point KUBECONFIG at one (for example the one kind, minikube or your cloud CLI writes), or bring the local stack up with \`npm run stack -- up\`.`,
    );
  }
  const parsed = kubeconfigSchema.safeParse(parseYaml(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new DevClusterError(`kubeconfig ${path} is not readable: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const kc = parsed.data;
  const contextName = kc['current-context'];
  const ctx = kc.contexts.find((c) => c.name === contextName);
  if (!contextName || !ctx) throw new DevClusterError(`kubeconfig ${path} has no current context; run \`kubectl config use-context <name>\``);
  const cluster = kc.clusters.find((c) => c.name === ctx.context.cluster);
  if (!cluster) throw new DevClusterError(`kubeconfig ${path}: context ${contextName} names cluster ${ctx.context.cluster}, which is not defined`);
  const user = kc.users.find((u) => u.name === ctx.context.user)?.user ?? {};
  const rel = (p: string) => (isAbsolute(p) ? p : resolve(dirname(path), p));
  const token = user?.token ?? (user?.tokenFile ? readFileSync(rel(user.tokenFile), 'utf8').trim() : undefined);
  const c = cluster.cluster;
  return {
    source,
    name: 'local',
    server: c.server,
    ...(c['certificate-authority'] ? { caFile: rel(c['certificate-authority']) } : {}),
    ...(c['certificate-authority-data'] ? { caData: c['certificate-authority-data'] } : {}),
    insecureSkipTlsVerify: c['insecure-skip-tls-verify'] ?? false,
    ...(token ? { token } : {}),
    kubeconfig: path,
    context: contextName,
  };
}

/** KEY=VALUE lines of the local stack's env file. */
export function readStackEnv(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

export function resolveDevCluster(repoRoot: string, env: NodeJS.ProcessEnv): DevCluster {
  const stackEnv = join(repoRoot, '.stack', 'env');
  if (existsSync(stackEnv)) {
    const s = readStackEnv(stackEnv);
    if (s.KUBECONFIG_ADMIN && existsSync(s.KUBECONFIG_ADMIN)) {
      const c = clusterFromKubeconfig(s.KUBECONFIG_ADMIN, `the local stack (${stackEnv})`);
      return { ...c, name: 'stack' };
    }
  }
  const path = env.KUBECONFIG?.split(':').find(Boolean) ?? join(homedir(), '.kube', 'config');
  return clusterFromKubeconfig(path, env.KUBECONFIG ? `KUBECONFIG (${path})` : path);
}
