import http from 'node:http';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { PortForward } from '@kubernetes/client-node';
import { z } from 'zod';
import { ToolRefusal } from '../../k8s/errors.js';
import { accessCheckDryRunArg, clusterArg, nameArg, namespaceArg } from '../args.js';
import { defineTool } from '../define.js';
import { dryRunSubresource } from './access-check.js';

/** client-node rejects with websocket ErrorEvents as well as Errors. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null) {
    const e = err as { message?: unknown; error?: unknown };
    if (e.error instanceof Error) return e.error.message;
    if (typeof e.message === 'string' && e.message) return e.message;
  }
  return String(err);
}

export const podsPortForward = defineTool({
  name: 'pods_port_forward',
  title: 'Pods: Port-Forward Request',
  description:
    'Send one HTTP request to a port of a pod through a short-lived port-forward and return the response (status, headers, body up to maxBytes). If the port answers with something that is not HTTP, the raw bytes are returned. Nothing stays open afterwards.',
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
    dryRun: accessCheckDryRunArg,
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
    // Everything the pod sends, kept (capped) so a non-HTTP answer can still be shown.
    const raw: Buffer[] = [];
    let rawBytes = 0;
    // A loopback listener for exactly this request: each connection becomes one port-forward stream.
    const server = net.createServer((socket) => {
      sockets.add(socket);
      const fromPod = new PassThrough();
      fromPod.on('data', (c: Buffer) => {
        if (rawBytes < a.maxBytes) raw.push(c.subarray(0, a.maxBytes - rawBytes));
        rawBytes += c.length;
      });
      fromPod.pipe(socket);
      forwarder
        .portForward(ns, a.name, [a.port], fromPod, null, socket)
        .then((ws) => {
          const w = typeof ws === 'function' ? ws() : ws;
          w?.on('close', () => socket.end());
          socket.on('close', () => w?.close());
        })
        .catch((err: unknown) => {
          forwardErrors.push(describeError(err));
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
      }).catch(async (err: unknown) => {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (code.startsWith('HPE_') && rawBytes > 0) {
          // Not HTTP: let the rest arrive briefly, then hand back what the port said.
          await new Promise((r) => setTimeout(r, 300));
          return undefined;
        }
        const why = forwardErrors[0] ?? (err instanceof Error ? err.message : String(err));
        throw new ToolRefusal(`port-forward to ${ns}/${a.name}:${a.port} failed: ${why}`);
      });
      if (!res) {
        const text = Buffer.concat(raw).toString('utf8');
        return {
          text: `the port answered with ${rawBytes} bytes that are not an HTTP response:\n${text}${rawBytes > a.maxBytes ? `\n[cut at ${a.maxBytes} bytes]` : ''}`,
          structured: { bytes: rawBytes, truncated: rawBytes > a.maxBytes, dryRun: false },
        };
      }
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
