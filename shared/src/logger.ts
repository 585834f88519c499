import { pino, type Logger, type LoggerOptions } from 'pino';
import { currentTrace } from './ops/trace.js';

export type { Logger };

/** Paths redacted in every log line: tokens and secrets must never reach a log. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
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

/** JSON logs on stdout (pino); `level` from config, never from process.env here. */
export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  return pino({
    name,
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    mixin: traceMixin,
    ...options,
  });
}
