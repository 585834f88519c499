import type { IncomingHttpHeaders } from 'node:http';
import { InvalidTokenError, type Principal } from '../auth/principal.js';
import type { RequestContext } from './context.js';
import type { McpRuntime } from './runtime.js';

const BEARER = /^Bearer +(\S+) *$/i;

/** Every request, every method: a bearer token the org's verifier accepts, else InvalidTokenError (401). */
export async function authenticate(rt: McpRuntime, ctx: RequestContext, headers: IncomingHttpHeaders, rawHeaders: readonly string[]): Promise<{ principal: Principal; token: string }> {
  // Node keeps the first of several Authorization headers; a proxy in front may use another, so two parties
  // would disagree about who is calling. Refuse rather than pick one.
  if (rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'authorization').length > 1) {
    throw new InvalidTokenError('invalid', 'more than one Authorization header');
  }
  const token = BEARER.exec(headers.authorization ?? '')?.[1];
  if (!token) throw new InvalidTokenError('missing', 'no bearer token');
  const principal = await rt.verifierFor(ctx.org).verify(ctx.org.name, ctx.site.mcpUrl, token);
  return { principal, token };
}
