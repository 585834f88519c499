import type { AuditRecord } from '../policy/audit.js';
import type { AuthenticatedContext } from './context.js';
import type { ToolCall } from './parse.js';
import type { McpRuntime } from './runtime.js';

/** One audit line per tool call: who, which tool, where, the outcome. Never argument values. */
export function auditCalls(rt: McpRuntime, ctx: AuthenticatedContext, calls: readonly ToolCall[], cluster: string | undefined, outcome: AuditRecord['outcome'], status: number): void {
  const time = new Date(ctx.started).toISOString();
  const durationMs = rt.now() - ctx.started;
  for (const call of calls) {
    rt.audit.write({
      time,
      org: ctx.org.name,
      user: ctx.principal.username,
      client: ctx.principal.clientId,
      tool: call.name,
      cluster: call.cluster ?? cluster ?? ctx.urlCluster.name,
      ...(call.namespace !== undefined ? { namespace: call.namespace } : {}),
      outcome,
      status,
      durationMs,
      requestId: ctx.requestId,
    });
  }
}

/** A request refused before its body could be read as JSON-RPC: one line, with the reason. */
export function auditUnparsed(rt: McpRuntime, ctx: AuthenticatedContext, status: number, reason: string): void {
  rt.audit.write({
    time: new Date(ctx.started).toISOString(),
    org: ctx.org.name,
    user: ctx.principal.username,
    client: ctx.principal.clientId,
    tool: '(unparsed)',
    cluster: ctx.urlCluster.name,
    outcome: 'rejected',
    status,
    durationMs: rt.now() - ctx.started,
    requestId: ctx.requestId,
    reason,
  });
}

/** The audit outcome of a forwarded call. */
export function forwardOutcome(o: { status: number; toolError: boolean; unreachable: boolean; aborted: boolean }): AuditRecord['outcome'] {
  if (o.aborted) return 'aborted';
  if (o.unreachable || o.status >= 400) return 'upstream_error';
  return o.toolError ? 'tool_error' : 'ok';
}
