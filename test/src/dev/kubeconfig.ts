// Which cluster `npm start` serves: the current context of KUBECONFIG or ~/.kube/config when there is one,
// else the built-in local cluster (KMG_DEV_CLUSTER=builtin asks for the built-in one either way).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export type DevClusterChoice =
  | { kind: 'builtin'; reason: string }
  | {
      kind: 'kubeconfig';
      file: string;
      /** How the file was found, for the banner: `KUBECONFIG` or `~/.kube/config`. */
      source: string;
      context: string;
      server: string;
      /** The kubeconfig user of the context (the identity workers use). */
      user: string;
    };

export class DevClusterError extends Error {}

const kubeconfigSchema = z.object({
  'current-context': z.string().optional(),
  contexts: z.array(z.object({ name: z.string(), context: z.object({ cluster: z.string(), user: z.string() }) })).nullish(),
  clusters: z.array(z.object({ name: z.string(), cluster: z.object({ server: z.string() }).passthrough() })).nullish(),
});

/** Reads a kubeconfig file and resolves its current context (the one kubectl uses). */
export function readKubeconfig(file: string, source: string): Extract<DevClusterChoice, { kind: 'kubeconfig' }> {
  if (!existsSync(file)) throw new DevClusterError(`${source} names ${file}, which does not exist; point KUBECONFIG at a kubeconfig file, or unset it to use the built-in cluster`);
  const parsed = kubeconfigSchema.safeParse(parseYaml(readFileSync(file, 'utf8')) ?? {});
  if (!parsed.success) throw new DevClusterError(`kubeconfig ${file} is not readable: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const kc = parsed.data;
  const contextName = kc['current-context'];
  const ctx = (kc.contexts ?? []).find((c) => c.name === contextName);
  if (!contextName || !ctx) throw new DevClusterError(`kubeconfig ${file} has no current context; run \`kubectl config use-context <name>\`, or KMG_DEV_CLUSTER=builtin npm start`);
  const cluster = (kc.clusters ?? []).find((c) => c.name === ctx.context.cluster);
  if (!cluster) throw new DevClusterError(`kubeconfig ${file}: context ${contextName} names cluster ${ctx.context.cluster}, which is not defined`);
  return { kind: 'kubeconfig', file, source, context: contextName, server: cluster.cluster.server, user: ctx.context.user };
}

export function chooseDevCluster(env: NodeJS.ProcessEnv, home: string): DevClusterChoice {
  if (env.KMG_DEV_CLUSTER === 'builtin') return { kind: 'builtin', reason: 'KMG_DEV_CLUSTER=builtin' };
  if (env.KMG_DEV_CLUSTER && env.KMG_DEV_CLUSTER !== 'kubeconfig') throw new DevClusterError(`KMG_DEV_CLUSTER must be builtin or kubeconfig, not ${env.KMG_DEV_CLUSTER}`);
  const fromEnv = env.KUBECONFIG?.split(':').find(Boolean);
  if (fromEnv) return readKubeconfig(fromEnv, 'KUBECONFIG');
  const file = join(home, '.kube', 'config');
  if (existsSync(file)) return readKubeconfig(file, '~/.kube/config');
  if (env.KMG_DEV_CLUSTER === 'kubeconfig') throw new DevClusterError(`KMG_DEV_CLUSTER=kubeconfig, but there is no KUBECONFIG and no ${file}`);
  return { kind: 'builtin', reason: `no kubeconfig (KUBECONFIG is unset and ${file} does not exist)` };
}
