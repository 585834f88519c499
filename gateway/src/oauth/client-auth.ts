import type { Request } from 'express';
import type { Site } from '../http/sites.js';
import { OAuthError } from './errors.js';
import type { OAuthContext } from './context.js';
import type { OAuthClient } from './clients.js';

/** Reads client credentials from HTTP Basic (RFC 6749 §2.3.1, form-urlencoded parts) or the body; refuses both at once. */
export async function authenticateClient(ctx: OAuthContext, site: Site, req: Request, body: Record<string, string>): Promise<OAuthClient> {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Basic ')) {
    if (body.client_secret) throw new OAuthError('invalid_request', 'use one client authentication method, not two');
    const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OAuthError('invalid_client', 'malformed Basic credentials');
    const dec = (s: string) => {
      try {
        return decodeURIComponent(s.replace(/\+/g, ' '));
      } catch {
        throw new OAuthError('invalid_client', 'malformed Basic credentials');
      }
    };
    const clientId = dec(decoded.slice(0, colon));
    if (body.client_id && body.client_id !== clientId) throw new OAuthError('invalid_client', 'client_id does not match the Basic credentials');
    return ctx.clients.authenticate(site, { clientId, clientSecret: dec(decoded.slice(colon + 1)), method: 'basic' });
  }
  return ctx.clients.authenticate(site, { clientId: body.client_id, clientSecret: body.client_secret, method: body.client_secret ? 'post' : 'none' });
}

/** Form bodies as single strings; repeated parameters are refused (RFC 6749 §3.1). */
export function formBody(req: Request): Record<string, string> {
  if (!req.is('application/x-www-form-urlencoded')) throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((req.body ?? {}) as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new OAuthError('invalid_request', `parameter ${k} must appear once`);
    out[k] = v;
  }
  return out;
}
