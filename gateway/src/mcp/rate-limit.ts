import type { AuthenticatedContext } from './context.js';
import { JsonRpcCode, McpRequestError } from './errors.js';
import type { McpRuntime } from './runtime.js';

/**
 * The org's per-user and per-client limits. Started early (its counters travel with the session lookup), decided
 * after the body is parsed so a refused request still audits its tool calls.
 */
export async function rateLimitStep(rt: McpRuntime, ctx: AuthenticatedContext): Promise<void> {
  const d = await rt.limiter.check(ctx.principal, ctx.org.rateLimits);
  if (!d.limited) return;
  throw new McpRequestError(429, JsonRpcCode.ServerError, `rate limit for this ${d.who} exceeded; retry in ${d.retryAfterSeconds}s`, { 'Retry-After': String(d.retryAfterSeconds) }, 'rate_limited');
}
