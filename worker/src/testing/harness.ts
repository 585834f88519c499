import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { pino } from 'pino';
import { parseWorkerConfig, type WorkerConfig } from '../config.js';
import type { Identity } from '../identity/types.js';
import { ClientFactory } from '../k8s/clients.js';
import { DiscoveryCache } from '../k8s/discovery.js';
import { createMcpServer, type RequestState, type ServerDeps } from '../server.js';
import { buildRegistry } from '../tools/index.js';

export function testConfig(server: string, overrides: Record<string, unknown> = {}, policy: Record<string, unknown> = {}): WorkerConfig {
  return parseWorkerConfig({ clusters: [{ name: 'test', server, identity: 'bearer', policy }], ...overrides });
}

export function testDeps(config: WorkerConfig): ServerDeps {
  return { config, registry: buildRegistry(), factory: new ClientFactory(config.clusters), discovery: new DiscoveryCache(), logger: pino({ level: 'silent' }) };
}

/** An SDK client talking to one server instance over an in-memory pair, so schema checks and error mapping run as in production. */
export async function connectInMemory(deps: ServerDeps, identity: Identity = { kind: 'bearer', token: 'test-token' }): Promise<{ client: Client; state: RequestState; close: () => Promise<void> }> {
  const state: RequestState = { identity };
  const server = createMcpServer(deps, state);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'unit-test', version: '0.0.0' });
  await client.connect(clientSide);
  return { client, state, close: async () => { await client.close(); await server.close(); } };
}
