/**
 * A dependency the gateway cannot decide without (its store, the identity provider) did not answer. Every path
 * turns it into 503 with Retry-After: the request fails closed, and the client knows to retry rather than to
 * sign in again (a 401) or to give up (a 500).
 */
export class UnavailableError extends Error {
  constructor(
    readonly dependency: 'store' | 'identity provider',
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UnavailableError';
  }
}

/** Seconds a client should wait after a store failure: ioredis reconnects at least every 500 ms. */
export const STORE_RETRY_AFTER_SECONDS = 1;
/** Seconds after an identity-provider failure (a Keycloak restart takes several). */
export const IDP_RETRY_AFTER_SECONDS = 5;
