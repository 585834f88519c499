// Raw HTTP for the security suites: exact bytes and repeated header lines, which fetch cannot send.
import http from 'node:http';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** Sends `body` as is; a string[] header value goes out as one header line per value. */
export function rawRequest(url: string, opts: { method?: string; headers?: Record<string, string | string[]>; body?: Buffer | string; timeoutMs?: number }): Promise<RawResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: opts.method ?? 'POST', timeout: opts.timeoutMs ?? 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    for (const [k, v] of Object.entries(opts.headers ?? {})) req.setHeader(k, v);
    if (opts.body !== undefined) req.setHeader('content-length', Buffer.byteLength(opts.body));
    req.on('timeout', () => req.destroy(new Error(`${url} did not answer in time`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The JSON-RPC messages in a JSON or SSE answer (unparseable parts are skipped). */
export function rpcMessages(r: RawResponse): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const add = (t: string) => {
    try {
      const v: unknown = JSON.parse(t);
      for (const m of [v].flat()) if (m && typeof m === 'object') out.push(m as Record<string, unknown>);
    } catch {
      /* not JSON */
    }
  };
  if (String(r.headers['content-type'] ?? '').includes('text/event-stream')) {
    for (const ev of r.text.split(/\r?\n\r?\n/)) {
      const data = ev.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim());
      if (data.length) add(data.join('\n'));
    }
  } else add(r.text);
  return out;
}

/** A refusal: an HTTP error status, or JSON-RPC errors / tool errors only. */
export function refused(r: RawResponse): boolean {
  if (r.status >= 400) return true;
  const msgs = rpcMessages(r);
  return msgs.length > 0 && msgs.every((m) => m.error !== undefined || (m.result as { isError?: boolean } | undefined)?.isError === true);
}

/** Stack traces look like "    at fn (file.js:1:2)" lines. */
export const STACK_TRACE = /\n\s+at [^\n]+[(:]\S+:\d+:\d+\)?/;
