// Minimal HTTPS client for the stack's health checks and setup calls: trusts the stack CA explicitly
// (the CLI process has no NODE_EXTRA_CA_CERTS) and can present the admin client certificate.
import https from 'node:https';
import http from 'node:http';
import { readFileSync } from 'node:fs';

export interface TlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export function request(
  url: string,
  opts: TlsFiles & { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpResult> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      u,
      {
        method: opts.method ?? 'GET',
        headers: opts.headers,
        ca: opts.caFile ? readFileSync(opts.caFile) : undefined,
        cert: opts.certFile ? readFileSync(opts.certFile) : undefined,
        key: opts.keyFile ? readFileSync(opts.keyFile) : undefined,
        timeout: opts.timeoutMs ?? 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${opts.timeoutMs ?? 5000} ms: ${url}`)));
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** GET/POST expecting a 2xx JSON answer. */
export async function requestJson<T = unknown>(url: string, opts: Parameters<typeof request>[1] = {}): Promise<T> {
  const res = await request(url, opts);
  if (res.status < 200 || res.status >= 300) throw new Error(`${opts.method ?? 'GET'} ${url} -> ${res.status}: ${res.text.slice(0, 300)}`);
  return JSON.parse(res.text) as T;
}
