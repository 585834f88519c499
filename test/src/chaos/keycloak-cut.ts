// A TCP forwarder to Keycloak that a scenario can cut (every connection closed, new ones refused, as when Keycloak
// stops) and restore on the same port. Gateway processes reach it through redirect-tls.ts.
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../stack/env.js';

export interface KeycloakCut {
  /** Options for the topology's gateway processes: every TLS connection to Keycloak's port goes through the cut. */
  gatewayNodeArgs: string[];
  gatewayEnv: Record<string, string>;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function keycloakCut(keycloakUrl: string): Promise<KeycloakCut> {
  const target = new URL(keycloakUrl);
  const targetPort = Number(target.port || 443);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => (client.destroy(), upstream.destroy(), sockets.delete(client), sockets.delete(upstream));
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const stop = () =>
    new Promise<void>((r) => {
      if (!server.listening) return r();
      server.close(() => r());
      for (const s of sockets) s.destroy();
    });
  return {
    gatewayNodeArgs: ['--import', pathToFileURL(path.join(repoRoot, 'test/dist/chaos/redirect-tls.js')).href],
    gatewayEnv: { KMG_CHAOS_TLS_REDIRECT: `${targetPort}:${port}` },
    cut: stop,
    restore: () => new Promise<void>((r, j) => server.once('error', j).listen(port, '127.0.0.1', () => r())),
    close: stop,
  };
}
