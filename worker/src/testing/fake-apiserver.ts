import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A tiny stand-in for a kube-apiserver, for unit tests only (integration tests use the real one). */
/** `body` is sent as JSON, unless `text` is given: then that text is sent as is (logs, proxied answers). */
export type FakeRoute = (req: http.IncomingMessage, body: string) => { status: number; body?: unknown; text?: string; headers?: Record<string, string | string[]> } | undefined;

export interface FakeApiserver {
  url: string;
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders }>;
  close(): Promise<void>;
}

export async function startFakeApiserver(route: FakeRoute): Promise<FakeApiserver> {
  const requests: FakeApiserver['requests'] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      const out = route(req, body) ?? { status: 404, body: { kind: 'Status', reason: 'NotFound', message: `${req.url} not found`, code: 404 } };
      const text = out.text ?? JSON.stringify(out.body);
      res.writeHead(out.status, { 'content-type': out.text === undefined ? 'application/json' : 'text/plain', ...(out.headers ?? {}) });
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Aggregated discovery for a handful of core and apps resources. */
export const DISCOVERY_CORE = {
  kind: 'APIGroupDiscoveryList',
  items: [
    {
      metadata: { name: '' },
      versions: [
        {
          version: 'v1',
          resources: [
            { resource: 'pods', responseKind: { group: '', version: 'v1', kind: 'Pod' }, scope: 'Namespaced', singularResource: 'pod', verbs: ['get', 'list', 'delete'], shortNames: ['po'] },
            { resource: 'secrets', responseKind: { group: '', version: 'v1', kind: 'Secret' }, scope: 'Namespaced', singularResource: 'secret', verbs: ['get', 'list'] },
            { resource: 'namespaces', responseKind: { group: '', version: 'v1', kind: 'Namespace' }, scope: 'Cluster', singularResource: 'namespace', verbs: ['get', 'list'], shortNames: ['ns'] },
          ],
        },
      ],
    },
  ],
};
export const DISCOVERY_APIS = {
  kind: 'APIGroupDiscoveryList',
  items: [
    {
      metadata: { name: 'apps' },
      versions: [
        {
          version: 'v1',
          resources: [
            { resource: 'deployments', responseKind: { group: 'apps', version: 'v1', kind: 'Deployment' }, scope: 'Namespaced', singularResource: 'deployment', verbs: ['get', 'list', 'patch'], shortNames: ['deploy'], subresources: [{ subresource: 'scale' }] },
          ],
        },
      ],
    },
  ],
};
