import type { Response } from 'express';
import type { AuthenticatedContext, ParsedContext } from './context.js';
import { JsonRpcCode, McpRequestError } from './errors.js';
import type { McpRuntime } from './runtime.js';

/** Protocol revisions with sessions and initialize; from 2026-07-28 on, every request stands alone. */
const FIRST_STATELESS_REVISION = '2026-07-28';

const notFound = () => new McpRequestError(404, JsonRpcCode.SessionNotFound, 'Session not found');

/**
 * Sessions are the gateway's (workers are stateless): a request naming one must be its owner's. DELETE ends it on
 * every replica; GET opens the session's stream. Returns true when the request was answered here.
 */
export async function sessionStep(rt: McpRuntime, ctx: AuthenticatedContext, method: string, res: Response): Promise<boolean> {
  const id = ctx.sessionId;
  if (id === undefined) return false;
  const found = await rt.sessions.lookup(id, ctx.principal, ctx.org.sessionTtlSeconds);
  if (!found.ok) {
    if (found.reason === 'other_principal') rt.logger.warn({ requestId: ctx.requestId, org: ctx.org.name, user: ctx.principal.username }, 'session id presented by another user; refused');
    throw notFound();
  }
  rt.live?.seen(id, ctx.org.sessionTtlSeconds);
  if (method === 'DELETE') {
    rt.live?.ended(id);
    await rt.sessions.end(id);
    rt.streams.end(id);
    res.status(204).end();
    return true;
  }
  if (method === 'GET') {
    rt.streams.open(res, id, `${ctx.org.name}/${ctx.principal.sub}`);
    return true;
  }
  return false;
}

/** A 2025-era initialize opens a gateway session (the worker stays stateless); returns its id. */
export async function openSessionFor(rt: McpRuntime, ctx: ParsedContext): Promise<string | undefined> {
  const init = ctx.parsed && !ctx.parsed.batch ? ctx.parsed.messages[0] : undefined;
  if (init?.method !== 'initialize' || ctx.sessionId !== undefined) return undefined;
  const requested = typeof init.params?.protocolVersion === 'string' ? init.params.protocolVersion : undefined;
  if (requested && requested >= FIRST_STATELESS_REVISION) return undefined;
  const id = await rt.sessions.open(ctx.principal, ctx.org.sessionTtlSeconds, requested);
  rt.live?.seen(id, ctx.org.sessionTtlSeconds);
  return id;
}

/** A session opened for an initialize the worker refused is closed again. */
export function dropSession(rt: McpRuntime, id: string): void {
  rt.live?.ended(id);
  void rt.sessions.end(id).catch(() => undefined);
}
