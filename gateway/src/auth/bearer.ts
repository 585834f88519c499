import type { Response } from 'express';
import type { Site } from '../http/sites.js';
import { InvalidTokenError } from './principal.js';

/** RFC 6750 §3 / RFC 9728 §5.1 header values are quoted-strings: escape backslash and quote. */
export function quoted(v: string): string {
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]/g, ' ')}"`;
}

/**
 * 401 + `WWW-Authenticate: Bearer resource_metadata=…` for a missing/invalid token; 403 with
 * `error="insufficient_scope"` when `requiredScope` is given. Clients use resource_metadata to discover
 * how to log in (RFC 9728 §5.1), so every refusal carries it.
 */
export function bearerChallenge(res: Response, site: Site, problem?: InvalidTokenError, requiredScope?: string): void {
  const parts = [`resource_metadata=${quoted(site.resourceMetadataUrl)}`, `scope=${quoted(requiredScope ?? site.org.oauth?.scopes.join(' ') ?? 'mcp:tools:read mcp:tools:write')}`];
  let status = 401;
  if (requiredScope) {
    status = 403;
    parts.unshift(`error="insufficient_scope"`);
  } else if (problem && problem.problem !== 'missing') {
    parts.unshift(`error="invalid_token"`, `error_description=${quoted(problem.message)}`);
  }
  res.setHeader('WWW-Authenticate', `Bearer ${parts.join(', ')}`);
  res.setHeader('Cache-Control', 'no-store');
  res.status(status).json({ error: status === 403 ? 'insufficient_scope' : 'invalid_token', error_description: problem?.message ?? 'authentication required' });
}
