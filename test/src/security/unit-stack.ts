// The unit-level chain the differential and fuzz suites drive: the real gateway app (OAuth facade, fake IdP,
// in-memory store) → the real worker HTTP server (its SDK parses every body) → a fake apiserver that records
// what the worker executed. No network beyond loopback, no stack.
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createApp } from '@kmg/gateway/app';
import { configSchema } from '@kmg/gateway/config/schema';
import { UpstreamRefusedError } from '@kmg/gateway/oauth/keycloak';
import { MemoryKvStore } from '@kmg/gateway/store/memory';
import { parseWorkerConfig } from '@kmg/worker/config';
import { createWorkerHttpServer } from '@kmg/worker/http/app';
import { Authenticator } from '@kmg/worker/http/auth';
import { ClientFactory } from '@kmg/worker/k8s/clients';
import { DiscoveryCache } from '@kmg/worker/k8s/discovery';
import { buildRegistry } from '@kmg/worker/tools/index';
import { accessToken, FakeIdp, recordingApiserver, REDIRECT, registerClient, type RecordingApiserver } from './unit-fakes.js';

export interface UnitStack {
  /** Gateway base URL; org `acme`. */
  base: string;
  mcpUrl: string;
  api: RecordingApiserver;
  /** Access tokens: `read` has only mcp:tools:read, `write` has both MCP scopes. */
  tokens: { read: string; write: string };
  workerUrl: string;
  /** A registered public client (redirect URI `REDIRECT` of unit-fakes.ts). */
  clientId: string;
  redirectUri: string;
  close(): Promise<void>;
}

const listen = async (s: http.Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
};

export async function startUnitStack(opts: { namespace: string; auditFile?: string; metadataDocuments?: boolean; logLevel?: string }): Promise<UnitStack> {
  const ns = opts.namespace;
  const dir = mkdtempSync(path.join(tmpdir(), 'kmg-unit-stack-'));
  const api = await recordingApiserver(ns);
  // The worker acts with a kubeconfig of its own (loopback only), so no credential plumbing hides a parse.
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'fake',
    clusters: [{ name: 'fake', cluster: { server: api.url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'u', user: { token: 'fake' } }],
    contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'u' } }],
  }));
  const wcfg = parseWorkerConfig({ clusters: [{ name: 'c1', identity: 'kubeconfig', kubeconfig, context: 'fake' }] });
  const factory = new ClientFactory(wcfg.clusters);
  const log = pino({ level: opts.logLevel ?? 'silent' });
  const worker = createWorkerHttpServer({ config: wcfg, registry: buildRegistry(), factory, discovery: new DiscoveryCache(), logger: log, authenticator: new Authenticator(wcfg, factory, undefined) }, log).server;
  const workerUrl = `http://127.0.0.1:${await listen(worker)}/mcp`;

  const config = configSchema.parse({
    publicUrl: 'https://gw.test',
    audit: { destination: opts.auditFile ?? 'off' },
    rateLimits: { register: { points: 1_000_000 }, authorize: { points: 1_000_000 }, token: { points: 1_000_000 } },
    orgs: [{
      name: 'acme',
      oauth: { keycloak: { issuer: 'https://kc.test/realms/mcp', clientSecret: 'secret' }, clientIdMetadataDocuments: { enabled: opts.metadataDocuments ?? true } },
      clusters: [{ name: 'c1', workers: [workerUrl], identity: 'worker' }],
      rateLimits: { perUser: { points: 1_000_000 }, perClient: { points: 1_000_000 } },
    }],
  });
  const idp = new FakeIdp({ refused: (m) => new UpstreamRefusedError(m) });
  // The suites run for minutes on a loaded machine: tokens that outlive them keep refreshes out of the picture.
  idp.accessLifetime = 3600;
  const { app } = createApp(config, { store: new MemoryKvStore(Date.now), logger: pino({ level: 'silent' }), idpFor: () => idp });
  const base0 = '/orgs/acme';
  const tokens = { read: await accessToken(app, base0, 'mcp:tools:read'), write: await accessToken(app, base0, 'mcp:tools:read mcp:tools:write') };
  const clientId = await registerClient(app, base0);
  const gateway = http.createServer(app);
  const base = `http://127.0.0.1:${await listen(gateway)}`;
  return {
    base,
    mcpUrl: `${base}/orgs/acme/mcp`,
    api,
    tokens,
    workerUrl,
    clientId,
    redirectUri: REDIRECT,
    close: async () => {
      for (const s of [gateway, worker]) {
        s.closeAllConnections();
        await new Promise((r) => s.close(() => r(undefined)));
      }
      await api.close();
    },
  };
}
