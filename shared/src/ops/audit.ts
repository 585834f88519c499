import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { currentTrace } from './trace.js';

/**
 * The audit stream: one JSON line per security-relevant event (each tool call, each grant decision),
 * written to its own destination so it can be shipped and retained apart from debug logs.
 * Records carry who/what/where/outcome, never argument values or tokens: values that are not
 * scalars are dropped, and keys that name credentials are refused.
 */
export const auditConfigSchema = z
  .discriminatedUnion('sink', [
    z.object({ sink: z.literal('stdout') }).describe('JSON lines on standard output, beside the logs (type "audit")'),
    z.object({ sink: z.literal('stderr') }),
    z.object({ sink: z.literal('off') }),
    z.object({
      sink: z.literal('file'),
      /** Appended to; reopened on SIGHUP so logrotate can move it. */
      path: z.string().min(1),
    }),
  ])
  .describe('Where audit records go: stdout, stderr, off, or a file');
export type AuditConfig = z.infer<typeof auditConfigSchema>;

/** Reads the one-string form used in config files: `stdout`, `stderr`, `off`, or a file path. */
export function auditConfigFromDestination(destination: string): AuditConfig {
  if (destination === 'stdout' || destination === 'stderr' || destination === 'off') return { sink: destination };
  return { sink: 'file', path: destination };
}

export type AuditOutcome = 'ok' | 'error' | 'denied' | 'failed' | 'cancelled';

export interface AuditRecord {
  /** What happened, e.g. `tool_call`, `token_issued`, `grant_revoked`, `consent`. */
  event: string;
  org?: string;
  user?: string;
  groups?: string[];
  client?: string;
  tool?: string;
  cluster?: string;
  namespace?: string;
  outcome?: AuditOutcome | string;
  durationMs?: number;
  requestId?: string;
  traceId?: string;
  /** A short reason for refusals and failures (never a token or an argument value). */
  reason?: string;
  [extra: string]: string | number | boolean | null | string[] | undefined;
}

export interface AuditSink {
  write(record: AuditRecord): void;
  /** Reopens a file destination (after log rotation). No-op otherwise. */
  reopen(): void;
  /** Flushes and closes a file destination. */
  close(): Promise<void>;
}

const CREDENTIAL_KEY = /token|secret|password|authorization|cookie|assertion|credential|arguments?$/i;

/** The line written for a record: time first, trace ids filled from the current request when missing. */
export function auditLine(record: AuditRecord, now: Date = new Date()): string {
  const trace = currentTrace();
  const out: Record<string, unknown> = { time: now.toISOString(), type: 'audit' };
  for (const [key, value] of Object.entries(record)) {
    if (value === undefined || CREDENTIAL_KEY.test(key)) continue;
    if (Array.isArray(value)) {
      out[key] = value.filter((v) => typeof v === 'string');
    } else if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) {
      out[key] = value;
    }
  }
  if (trace) {
    out.requestId ??= trace.requestId;
    out.traceId ??= trace.traceId;
  }
  return `${JSON.stringify(out)}\n`;
}

/** Open file sinks: one SIGHUP listener reopens them all, so logrotate can move the files. */
const fileSinks = new Set<AuditSink>();
let hangupListening = false;
function reopenOnHangup(sink: AuditSink): void {
  fileSinks.add(sink);
  if (hangupListening) return;
  hangupListening = true;
  process.on('SIGHUP', () => {
    for (const s of fileSinks) s.reopen();
  });
}

export function createAuditSink(config: AuditConfig, options: { onError?: (err: Error) => void } = {}): AuditSink {
  switch (config.sink) {
    case 'off':
      return { write: () => {}, reopen: () => {}, close: async () => {} };
    case 'stdout':
    case 'stderr': {
      const stream = config.sink === 'stdout' ? process.stdout : process.stderr;
      return { write: (r) => void stream.write(auditLine(r)), reopen: () => {}, close: async () => {} };
    }
    case 'file': {
      mkdirSync(dirname(config.path), { recursive: true });
      const open = (): WriteStream => {
        const s = createWriteStream(config.path, { flags: 'a', mode: 0o640 });
        s.on('error', (err) => options.onError?.(err));
        return s;
      };
      let stream = open();
      const end = (s: WriteStream): Promise<void> => new Promise((resolve) => s.end(resolve));
      const sink: AuditSink = {
        write: (r) => void stream.write(auditLine(r)),
        reopen: () => {
          const old = stream;
          stream = open();
          void end(old);
        },
        close: () => {
          fileSinks.delete(sink);
          return end(stream);
        },
      };
      reopenOnHangup(sink);
      return sink;
    }
  }
}
