import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import type { ClusterConfig } from '../config.js';

/**
 * Everything about reaching one cluster that does not depend on the caller: its URL, TLS trust
 * and one keep-alive agent reused by every request to it. (@kubernetes/client-node 1.4 builds a
 * new agent per request, so its REST clients never reuse a connection; exec and port-forward,
 * which are websockets, still go through it.)
 */
export interface ClusterTransport {
  readonly name: string;
  readonly server: URL;
  readonly agent: http.Agent;
  readonly ca?: string;
  readonly insecureSkipTlsVerify: boolean;
  /**
   * Present when a kubeconfig supplies the worker's own credentials (kubeconfig identity, or the impersonating
   * identity of an impersonation cluster): the loaded kubeconfig, current context set to this cluster.
   */
  readonly kubeConfig?: KubeConfig;
}

export function createClusterTransport(cluster: ClusterConfig): ClusterTransport {
  if (cluster.identity === 'kubeconfig' || (cluster.identity === 'impersonation' && cluster.kubeconfig)) return kubeconfigTransport(cluster);
  const server = new URL(cluster.server!);
  const ca = cluster.caData ? Buffer.from(cluster.caData, 'base64').toString('utf8') : cluster.caFile ? readFileSync(cluster.caFile, 'utf8') : undefined;
  const agentOpts = { keepAlive: true, maxSockets: 64, maxFreeSockets: 16, keepAliveMsecs: 15_000 };
  const agent =
    server.protocol === 'http:'
      ? new http.Agent(agentOpts)
      : new https.Agent({ ...agentOpts, ...(ca ? { ca } : {}), rejectUnauthorized: !cluster.insecureSkipTlsVerify });
  return { name: cluster.name, server, agent, ...(ca ? { ca } : {}), insecureSkipTlsVerify: cluster.insecureSkipTlsVerify };
}

function kubeconfigTransport(cluster: ClusterConfig): ClusterTransport {
  const kc = new KubeConfig();
  if (cluster.kubeconfig) kc.loadFromFile(cluster.kubeconfig);
  else kc.loadFromDefault();
  if (cluster.context) kc.setCurrentContext(cluster.context);
  const kcCluster = kc.getCurrentCluster();
  if (!kcCluster) throw new Error(`kubeconfig has no cluster for context ${kc.getCurrentContext() || '(none)'}`);
  const user = kc.getCurrentUser();
  const server = new URL(kcCluster.server);
  const ca = kcCluster.caData
    ? Buffer.from(kcCluster.caData, 'base64').toString('utf8')
    : kcCluster.caFile
      ? readFileSync(kcCluster.caFile, 'utf8')
      : undefined;
  const cert = user?.certData ? Buffer.from(user.certData, 'base64').toString('utf8') : user?.certFile ? readFileSync(user.certFile, 'utf8') : undefined;
  const key = user?.keyData ? Buffer.from(user.keyData, 'base64').toString('utf8') : user?.keyFile ? readFileSync(user.keyFile, 'utf8') : undefined;
  const agentOpts = { keepAlive: true, maxSockets: 64, keepAliveMsecs: 15_000 };
  const agent =
    server.protocol === 'http:'
      ? new http.Agent(agentOpts)
      : new https.Agent({
          ...agentOpts,
          ...(ca ? { ca } : {}),
          ...(cert ? { cert } : {}),
          ...(key ? { key } : {}),
          rejectUnauthorized: !kcCluster.skipTLSVerify,
        });
  return { name: cluster.name, server, agent, ...(ca ? { ca } : {}), insecureSkipTlsVerify: Boolean(kcCluster.skipTLSVerify), kubeConfig: kc };
}
