/** The token endpoint could not be reached or failed (5xx, timeout): answered 503 + Retry-After. */
export class ExchangeUnavailableError extends Error {
  constructor(message: string, readonly retryAfterSeconds = 10, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExchangeUnavailableError';
  }
}

/** The token endpoint refused the exchange for a reason the user cannot fix by logging in again (config, policy). */
export class ExchangeRefusedError extends Error {
  constructor(readonly oauthError: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExchangeRefusedError';
  }
}
