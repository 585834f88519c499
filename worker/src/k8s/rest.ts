import http from 'node:http';
import https from 'node:https';
import { ClusterUnreachableError, errorFromResponse, KubeApiError } from './errors.js';
import type { ClusterTransport } from './transport.js';
import { recordWarnings } from './warnings.js';

export type Headers = Record<string, string | string[]>;
export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  accept?: string;
  timeoutMs?: number;
  /** Stop reading after this many bytes (the rest is dropped, `truncated` set). */
  maxBytes?: number;
  signal?: AbortSignal;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  truncated: boolean;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/**
 * A REST client for one cluster acting as one identity: raw JSON in and out (no model classes,
 * so CRD fields survive and nothing is re-serialised), over the cluster's keep-alive agent.
 */
export class KubeRest {
  constructor(
    readonly transport: ClusterTransport,
    private readonly authHeaders: () => Promise<Headers> | Headers,
  ) {}

  get cluster(): string {
    return this.transport.name;
  }

  async raw(method: string, path: string, opts: RequestOptions = {}): Promise<RawResponse> {
    const url = new URL(path, this.transport.server);
    // Keep a base path (e.g. a proxy prefix) in front of the API path.
    if (this.transport.server.pathname !== '/' && !path.startsWith(this.transport.server.pathname)) {
      url.pathname = this.transport.server.pathname.replace(/\/$/, '') + path.split('?')[0];
    }
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const headers: Headers = { ...(await this.authHeaders()), accept: opts.accept ?? 'application/json' };
    let payload: Buffer | undefined;
    if (opts.body !== undefined) {
      payload = Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
      headers['content-type'] = opts.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const lib = url.protocol === 'http:' ? http : https;
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    return new Promise<RawResponse>((resolve, reject) => {
      const req = lib.request(url, { method, headers, agent: this.transport.agent, timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal: opts.signal });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (opts.signal?.aborted) reject(new ClusterUnreachableError(this.cluster, 'request cancelled'));
        else reject(new ClusterUnreachableError(this.cluster, err.code ?? err.message));
      });
      req.on('response', (res) => {
        recordWarnings(res.rawHeaders);
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        res.on('data', (chunk: Buffer) => {
          if (truncated) return;
          if (size + chunk.length > maxBytes) {
            chunks.push(chunk.subarray(0, maxBytes - size));
            size = maxBytes;
            truncated = true;
            res.destroy();
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), truncated });
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), truncated }));
        res.on('error', (err) => {
          if (!truncated) reject(new ClusterUnreachableError(this.cluster, err.message));
        });
      });
      req.end(payload);
    });
  }

  /** A request whose non-2xx answer becomes a KubeApiError. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<RawResponse> {
    const res = await this.raw(method, path, opts);
    if (res.status < 200 || res.status >= 300) throw errorFromResponse(this.cluster, res.status, res.text, path);
    return res;
  }

  async json<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    // A half-read answer is never parsed: say it was too large and how to narrow it.
    if (res.truncated) throw new KubeApiError(this.cluster, 413, 'TooLarge', `the apiserver's answer was over this worker's ${opts.maxBytes ?? DEFAULT_MAX_BYTES}-byte read cap and was not read in part; narrow the request (limit, namespace, labelSelector or fieldSelector)`);
    return (res.text ? JSON.parse(res.text) : {}) as T;
  }

  get<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.json<T>('GET', path, opts);
  }
}
