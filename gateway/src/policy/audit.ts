import { auditConfigFromDestination, createAuditSink as createSharedSink, type AuditSink as SharedSink } from '@kmg/shared/ops/audit';

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
  /** Why a request was refused before it reached a worker (never an argument value). */
  reason?: string;
}

export interface AuditSink {
  write(record: AuditRecord): void;
  close(): Promise<void>;
}

/** JSON lines through the shared audit stream (stdout, stderr, off, or a file path). */
export function createAuditSink(destination: string): AuditSink {
  const sink: SharedSink = createSharedSink(auditConfigFromDestination(destination));
  return {
    write: ({ time, ...r }) => sink.write({ event: 'tool_call', startedAt: time, ...r }),
    close: () => sink.close(),
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
