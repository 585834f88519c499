import { pino, type Logger, type LoggerOptions } from 'pino';

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

/** JSON logs on stdout (pino); `level` from config, never from process.env here. */
export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  return pino({
    name,
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    ...options,
  });
}
