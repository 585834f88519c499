import { createWriteStream, type WriteStream } from 'node:fs';

/** One line per tool call. Never argument values: they may hold secrets. */
export interface AuditRecord {
  time: string;
  org: string;
  user: string;
  client: string;
  tool: string;
  cluster: string;
  namespace?: string;
  outcome: 'ok' | 'tool_error' | 'denied' | 'insufficient_scope' | 'rate_limited' | 'upstream_error' | 'unavailable' | 'aborted' | 'rejected';
  status: number;
  durationMs: number;
  requestId: string;
}

export interface AuditSink {
  write(record: AuditRecord): void;
  close(): Promise<void>;
}

/** JSON lines to stdout, or appended to a file. */
export function createAuditSink(destination: string): AuditSink {
  if (destination === 'stdout') {
    return { write: (r) => void process.stdout.write(`${JSON.stringify({ audit: 'tool_call', ...r })}\n`), close: async () => undefined };
  }
  const out: WriteStream = createWriteStream(destination, { flags: 'a' });
  return {
    write: (r) => void out.write(`${JSON.stringify(r)}\n`),
    close: () => new Promise((resolve) => out.end(resolve)),
  };
}

/** Collects records in memory (unit tests). */
export class MemoryAuditSink implements AuditSink {
  readonly records: AuditRecord[] = [];
  write(r: AuditRecord): void {
    this.records.push(r);
  }
  async close(): Promise<void> {}
}
