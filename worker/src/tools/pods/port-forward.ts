import http from 'node:http';
import net from 'node:net';
import { PortForward } from '@kubernetes/client-node';
import { z } from 'zod';
import { ToolRefusal } from '../../k8s/errors.js';
import { clusterArg, dryRunArg, nameArg, namespaceArg } from '../args.js';
import { defineTool } from '../define.js';
import { dryRunSubresource } from './access-check.js';

export const podsPortForward = defineTool({
  name: 'pods_port_forward',
  title: 'Pods: Port-Forward Request',
  description:
    'Send one HTTP request to a port of a pod through a short-lived port-forward and return the response (status, headers, body up to maxBytes). Nothing stays open afterwards.',
  input: z.object({
    cluster: clusterArg,
    name: nameArg,
    namespace: namespaceArg,
    port: z.number().int().min(1).max(65535).describe('Container port to reach.'),
    path: z.string().default('/').describe('Request path and query, e.g. "/healthz".'),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET').describe('HTTP method.'),
    headers: z.record(z.string(), z.string()).optional().describe('Extra request headers.'),
    body: z.string().optional().describe('Request body.'),
    timeoutSeconds: z.number().int().min(1).max(60).default(10).describe('Give up after this many seconds (default 10).'),
    maxBytes: z.number().int().min(256).max(1024 * 1024).default(32 * 1024).describe('Keep at most this many body bytes (default 32 KiB).'),
    dryRun: dryRunArg,
  }),
  output: z.object({ status: z.number().int().optional(), bytes: z.number().int().optional(), truncated: z.boolean().optional(), dryRun: z.boolean() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  kinds: () => ['Pod'],
  async run(a, ctx) {
    const ns = a.namespace ?? 'default';
    if (a.dryRun) return { text: await dryRunSubresource(ctx, 'portforward', ns, a.name, `port-forward to port ${a.port} of`), structured: { dryRun: true } };
    const forwarder = new PortForward(ctx.clients().kubeConfig());
    const sockets = new Set<net.Socket>();
    const forwardErrors: string[] = [];
    // A loopback listener for exactly this request: each connection becomes one port-forward stream.
    const server = net.createServer((socket) => {
      sockets.add(socket);
      forwarder
        .portForward(ns, a.name, [a.port], socket, null, socket)
        .then((ws) => {
          const w = typeof ws === 'function' ? ws() : ws;
          w?.on('close', () => socket.end());
          socket.on('close', () => w?.close());
        })
        .catch((err: unknown) => {
          forwardErrors.push(err instanceof Error ? err.message : String(err));
          socket.destroy();
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const res = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; total: number }>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port, path: a.path.startsWith('/') ? a.path : `/${a.path}`, method: a.method, headers: { ...(a.headers ?? {}), connection: 'close' }, agent: false, timeout: a.timeoutSeconds * 1000 },
          (r) => {
            const chunks: Buffer[] = [];
            let kept = 0;
            let total = 0;
            r.on('data', (c: Buffer) => {
              total += c.length;
              if (kept < a.maxBytes) {
                const part = c.subarray(0, a.maxBytes - kept);
                chunks.push(part);
                kept += part.length;
              }
            });
            r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(chunks), total }));
            r.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error(`no response within ${a.timeoutSeconds}s`)));
        req.on('error', reject);
        ctx.signal.addEventListener('abort', () => req.destroy(new Error('cancelled')));
        req.end(a.body);
      }).catch((err: unknown) => {
        const why = forwardErrors[0] ?? (err instanceof Error ? err.message : String(err));
        throw new ToolRefusal(`port-forward to ${ns}/${a.name}:${a.port} failed: ${why}`);
      });
      const headerLines = Object.entries(res.headers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
      const truncated = res.total > res.body.length;
      return {
        text: `HTTP ${res.status}\n${headerLines.join('\n')}\n\n${res.body.toString('utf8')}${truncated ? `\n[body cut at ${a.maxBytes} of ${res.total} bytes]` : ''}`,
        structured: { status: res.status, bytes: res.total, truncated, dryRun: false },
      };
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  },
});
