import type { Request, Response } from 'express';
import { UnavailableError } from '../http/unavailable.js';

/** RFC 6749 §4.1.2.1/§5.2, RFC 7591 §3.2.2, RFC 7009 §2.2.1, RFC 6750 §3.1 codes. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'invalid_target'
  | 'unsupported_token_type'
  | 'slow_down'
  | 'too_many_requests'
  | 'invalid_token';

const STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  access_denied: 403,
  unsupported_response_type: 400,
  server_error: 500,
  temporarily_unavailable: 503,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  invalid_target: 400,
  unsupported_token_type: 400,
  slow_down: 429,
  too_many_requests: 429,
  invalid_token: 401,
};

export class OAuthError extends Error {
  readonly status: number;
  /** Seconds, for 429 answers. */
  retryAfter?: number;
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    opts: { status?: number; cause?: unknown; retryAfter?: number } = {},
  ) {
    super(description, { cause: opts.cause });
    this.name = 'OAuthError';
    this.status = opts.status ?? STATUS[code];
    this.retryAfter = opts.retryAfter;
  }
}

/**
 * Any failure as an OAuthError: an unavailable store or identity provider is temporarily_unavailable (503 with
 * Retry-After, RFC 6749 §4.1.2.1), anything else not already an OAuthError is server_error.
 */
export function toOAuthError(err: unknown, description = 'internal error'): OAuthError {
  if (err instanceof OAuthError) return err;
  if (err instanceof UnavailableError) {
    return new OAuthError('temporarily_unavailable', `the ${err.dependency} is unavailable; retry later`, { cause: err, retryAfter: err.retryAfterSeconds });
  }
  return new OAuthError('server_error', description, { cause: err });
}

/**
 * The only writer of OAuth error bodies: `{error, error_description}`, `Cache-Control: no-store`.
 * invalid_client answered with 401 carries `WWW-Authenticate: Basic` (RFC 6749 §5.2). Anything that
 * is not an OAuthError becomes server_error 500 (or 503 for an unavailable dependency) and goes to the log, not the
 * client.
 */
export function sendOAuthError(req: Request, res: Response, err: unknown): void {
  const e = toOAuthError(err);
  if (e.code === 'temporarily_unavailable') req.log?.warn({ err: (e.cause as Error | undefined)?.message }, 'oauth endpoint unavailable');
  else if (e.status >= 500) req.log?.error({ err: e.cause ?? e }, 'oauth endpoint failed');
  else req.log?.info({ oauthError: e.code, description: e.description }, 'oauth request refused');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  if (e.code === 'invalid_client' && e.status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="oauth"');
  if (e.code === 'invalid_token') res.setHeader('WWW-Authenticate', `Bearer error="invalid_token"`);
  if (e.retryAfter) res.setHeader('Retry-After', String(e.retryAfter));
  res.status(e.status).json({ error: e.code, error_description: e.description });
}

/** Wraps an async handler so every failure goes through sendOAuthError. */
export function oauthHandler(fn: (req: Request, res: Response) => Promise<void>) {
  return (req: Request, res: Response): void => {
    fn(req, res).catch((err: unknown) => sendOAuthError(req, res, err));
  };
}
