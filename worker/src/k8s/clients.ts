import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';
import type { ClusterConfig } from '../config.js';
import { reservedName, type Identity } from '../identity/types.js';
import { TtlCache } from './cache.js';
import { ToolRefusal } from './errors.js';
import { KubeRest, type Headers } from './rest.js';
import { createClusterTransport, type ClusterTransport } from './transport.js';

/** The clients a tool uses for one cluster as one identity. */
export interface KubeClients {
  readonly cluster: string;
  readonly rest: KubeRest;
  /** For websocket subresources (exec, port-forward) through @kubernetes/client-node. */
  kubeConfig(): KubeConfig;
}

const CLIENT_TTL_MS = 60_000;
const MAX_CLIENTS = 1000;
const SA_TOKEN_TTL_MS = 60_000;

/**
 * Builds clients per (cluster, identity) and keeps them briefly: a burst of calls from one user
 * reuses one client, the cluster's keep-alive agent is shared by all of them, and nothing about
 * a user outlives the short TTL.
 */
export class ClientFactory {
  private readonly transports = new Map<string, ClusterTransport>();
  private readonly clients = new TtlCache<KubeClients>(CLIENT_TTL_MS, MAX_CLIENTS);
  private readonly saTokens = new TtlCache<string>(SA_TOKEN_TTL_MS, 64);

  constructor(private readonly clusters: readonly ClusterConfig[]) {
    for (const c of clusters) this.transports.set(c.name, createClusterTransport(c));
  }

  transport(cluster: string): ClusterTransport {
    const t = this.transports.get(cluster);
    if (!t) throw new ToolRefusal(`unknown cluster ${cluster}`);
    return t;
  }

  forIdentity(clusterName: string, identity: Identity): KubeClients {
    const cluster = this.clusters.find((c) => c.name === clusterName);
    if (!cluster) throw new ToolRefusal(`unknown cluster ${clusterName}; clusters_list shows the configured ones`);
    if (cluster.identity !== identity.kind) {
      throw new ToolRefusal(`cluster ${clusterName} takes ${cluster.identity} identity, but this request carries ${identity.kind}`);
    }
    // The assertion verifier refuses these already; checked again where the Impersonate-* headers are built.
    if (identity.kind === 'impersonation' && reservedName(identity) !== undefined) throw new ToolRefusal('system: users and groups are never impersonated');
    const key = `${clusterName}\u0000${identityKey(identity)}`;
    const cached = this.clients.get(key);
    if (cached) return cached;
    const transport = this.transport(clusterName);
    const headers = this.headerSource(cluster, transport, identity);
    let kc: KubeConfig | undefined;
    const clients: KubeClients = {
      cluster: clusterName,
      rest: new KubeRest(transport, headers),
      kubeConfig: () => (kc ??= this.websocketConfig(cluster, transport, identity)),
    };
    this.clients.set(key, clients);
    return clients;
  }

  private headerSource(cluster: ClusterConfig, transport: ClusterTransport, identity: Identity): () => Promise<Headers> | Headers {
    switch (identity.kind) {
      case 'bearer': {
        const h = { authorization: `Bearer ${identity.token}` };
        return () => h;
      }
      case 'impersonation': {
        const impersonate = { 'impersonate-user': identity.user, ...(identity.groups.length ? { 'impersonate-group': identity.groups } : {}) };
        // The impersonating identity: a kubeconfig's credentials (client certificate in the agent, or its token), else the service account.
        if (transport.kubeConfig) return async () => ({ ...(await kubeconfigHeaders(transport.kubeConfig!)), ...impersonate });
        return async () => ({ authorization: `Bearer ${await this.serviceAccountToken(cluster)}`, ...impersonate });
      }
      case 'kubeconfig':
        return () => kubeconfigHeaders(transport.kubeConfig!);
    }
  }

  private async serviceAccountToken(cluster: ClusterConfig): Promise<string> {
    const cached = this.saTokens.get(cluster.name);
    if (cached) return cached;
    const token = (await readFile(cluster.serviceAccountTokenFile!, 'utf8')).trim();
    this.saTokens.set(cluster.name, token);
    return token;
  }

  private websocketConfig(cluster: ClusterConfig, transport: ClusterTransport, identity: Identity): KubeConfig {
    if (identity.kind === 'kubeconfig') return transport.kubeConfig!;
    if (identity.kind === 'impersonation' && cluster.kubeconfig) {
      // The kubeconfig's own user authenticates (certificate, token or exec); the subclass adds the Impersonate-* headers.
      const kc = new ImpersonatingKubeConfig(identity.user, identity.groups);
      kc.loadFromFile(cluster.kubeconfig);
      if (cluster.context) kc.setCurrentContext(cluster.context);
      return kc;
    }
    const token = identity.kind === 'bearer' ? identity.token : undefined;
    const kc = identity.kind === 'impersonation' ? new ImpersonatingKubeConfig(identity.user, identity.groups, () => this.serviceAccountToken(cluster)) : new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: cluster.name,
          server: transport.server.toString().replace(/\/$/, ''),
          ...(transport.ca ? { caData: Buffer.from(transport.ca).toString('base64') } : {}),
          skipTLSVerify: transport.insecureSkipTlsVerify,
        },
      ],
      users: [{ name: 'caller', ...(token ? { token } : {}) }],
      contexts: [{ name: 'caller', cluster: cluster.name, user: 'caller' }],
      currentContext: 'caller',
    });
    return kc;
  }
}

async function kubeconfigHeaders(kc: KubeConfig): Promise<Headers> {
  const opts: { headers?: Record<string, string> } = {};
  await kc.applyToHTTPSOptions(opts);
  return { ...(opts.headers ?? {}) };
}

/**
 * Adds Impersonate-User/-Group to websocket requests (client-node has no Impersonate-Group), authenticated
 * by the service-account token when given, else by the loaded kubeconfig's user.
 */
class ImpersonatingKubeConfig extends KubeConfig {
  constructor(
    private readonly user: string,
    private readonly groups: string[],
    private readonly token?: () => Promise<string>,
  ) {
    super();
  }

  override async applyToHTTPSOptions(opts: Parameters<KubeConfig['applyToHTTPSOptions']>[0]): Promise<void> {
    await super.applyToHTTPSOptions(opts);
    const o = opts as { headers?: Record<string, string | string[]> };
    o.headers = { ...(o.headers ?? {}), ...(this.token ? { Authorization: `Bearer ${await this.token()}` } : {}), 'Impersonate-User': this.user };
    if (this.groups.length) o.headers['Impersonate-Group'] = this.groups;
  }
}

function identityKey(identity: Identity): string {
  switch (identity.kind) {
    case 'bearer':
      return `b:${createHash('sha256').update(identity.token).digest('base64url')}`;
    case 'impersonation':
      return `i:${JSON.stringify([identity.user, [...identity.groups].sort()])}`;
    case 'kubeconfig':
      return 'k';
  }
}
