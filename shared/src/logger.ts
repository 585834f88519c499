import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { currentTrace } from './ops/trace.js';

export type { Logger };

/** Paths redacted in every log line: tokens, cookies, codes and session handles must never reach a log. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["mcp-session-id"]',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'res.headers["mcp-session-id"]',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["mcp-session-id"]',
  'headers.authorization',
  'authorization',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'subject_token',
  'password',
  '*.access_token',
  '*.refresh_token',
  '*.client_secret',
];

/**
 * Adds the request id and trace id of the request being handled (set by the ops trace middleware) to
 * every log line, so one id follows a call from the gateway's logs into the worker's.
 */
export function traceMixin(): Record<string, string> {
  const t = currentTrace();
  return t ? { requestId: t.requestId, traceId: t.traceId } : {};
}

/** JSON logs on stdout (pino), or on `destination` (tests capture lines); `level` from config, never from process.env here. */
export function createLogger(name: string, options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const opts: LoggerOptions = {
    name,
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    mixin: traceMixin,
    ...options,
  };
  return destination ? pino(opts, destination) : pino(opts);
}

/** Query values that are secrets or session handles (codes, login state, consent ids, tokens) never reach a log. */
const SECRET_QUERY = new Set(['code', 'state', 'session_state', 'nonce', 'id', 'tx', 'token', 'refresh_token', 'access_token', 'id_token', 'client_secret', 'csrf']);

/** The URL with every secret query value replaced by `[redacted]` (paths and other parameters stay readable). */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const k of [...params.keys()]) if (SECRET_QUERY.has(k.toLowerCase())) params.set(k, '[redacted]');
  return `${url.slice(0, q)}?${params.toString()}`;
}

/** Response headers worth a log line; everything else (Set-Cookie, Mcp-Session-Id, …) is left out. */
const LOGGED_RESPONSE_HEADERS = ['content-type', 'content-length', 'cache-control', 'retry-after', 'www-authenticate', 'x-request-id'];

interface SerializedReq {
  id?: unknown;
  method?: string;
  url?: string;
}
interface SerializedRes {
  statusCode?: number;
  headers?: Record<string, unknown>;
}

/**
 * pino-http serializers for both processes. pino-http's defaults log every request and response header, which
 * puts cookies, `Set-Cookie`, `Mcp-Session-Id` and the `Location` of OAuth redirects (codes, state, consent ids)
 * in the log: requests keep id, method and a redacted URL; responses keep the status, a few harmless headers and
 * a redacted `Location`.
 */
export const httpLogSerializers = {
  req: (req: SerializedReq) => ({ id: req.id, method: req.method, url: typeof req.url === 'string' ? redactUrl(req.url) : req.url }),
  res: (res: SerializedRes) => {
    const headers: Record<string, unknown> = {};
    for (const h of LOGGED_RESPONSE_HEADERS) if (res.headers?.[h] !== undefined) headers[h] = res.headers[h];
    const location = res.headers?.location;
    if (typeof location === 'string') headers.location = redactUrl(location);
    return { statusCode: res.statusCode, headers };
  },
};
