/** The token endpoint could not be reached or failed (5xx, timeout): answered 503 + Retry-After. */
export class ExchangeUnavailableError extends Error {
  constructor(message: string, readonly retryAfterSeconds = 10, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExchangeUnavailableError';
  }
}

/**
 * The user's name cannot be a Kubernetes identity on this cluster (a `system:` user after prefixing, or a
 * name with characters a header cannot carry): refused before anything reaches a worker.
 */
export class IdentityRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityRefusedError';
  }
}

/** The token endpoint refused the exchange for a reason the user cannot fix by logging in again (config, policy). */
export class ExchangeRefusedError extends Error {
  constructor(readonly oauthError: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExchangeRefusedError';
  }
}
