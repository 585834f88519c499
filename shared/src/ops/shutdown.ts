import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

/**
 * Graceful shutdown. On SIGTERM (or SIGINT) the process:
 *  1. turns `/readyz` to 503 so load balancers stop routing here, optionally waiting `drainDelayMs`
 *     for them to notice (Kubernetes removes endpoints asynchronously);
 *  2. stops accepting connections, answers requests in flight with `Connection: close`, closes idle
 *     kept-alive connections, and answers any request still arriving on one with 503 `Connection: close`
 *     (with a drain delay longer than the balancer takes to see /readyz, none arrive);
 *  3. lets requests already in flight — tool calls and SSE streams included — finish, up to `timeoutMs`;
 *  4. closes what is left, runs the `onClose` hooks (Redis, audit sink) and exits 0.
 */

type Next = (err?: unknown) => void;

/**
 * A GET asking for text/event-stream is a listening stream (server-to-client notifications): it has no
 * natural end, so draining closes it at once (the client reconnects to another replica) instead of
 * waiting the whole timeout for it. Every other request — tool calls and their SSE answers — is awaited.
 */
function isListeningStream(req: IncomingMessage): boolean {
  return req.method === 'GET' && /text\/event-stream/i.test(req.headers.accept ?? '');
}

export class InFlightTracker {
  #draining = false;
  #listening = new Set<ServerResponse>();
  #inFlight = new Set<ServerResponse>();
  #waiters = new Set<() => void>();
  #onIdleConnection: (() => void) | undefined;

  get active(): number {
    return this.#inFlight.size;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Mount first (after health endpoints, which must keep answering): counts each request until its
   * response closes, and refuses new ones once draining.
   */
  middleware() {
    return (req: IncomingMessage, res: ServerResponse, next: Next): void => {
      if (this.#draining) {
        res.statusCode = 503;
        res.setHeader('Connection', 'close');
        res.setHeader('Retry-After', '1');
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.end(JSON.stringify({ error: 'shutting_down', error_description: 'this replica is shutting down; retry' }));
        return;
      }
      if (isListeningStream(req)) {
        this.#listening.add(res);
        res.once('close', () => this.#listening.delete(res));
        next();
        return;
      }
      this.#inFlight.add(res);
      res.once('close', () => {
        this.#inFlight.delete(res);
        if (this.#draining) this.#onIdleConnection?.();
        if (this.#inFlight.size === 0) for (const wake of this.#waiters) wake();
      });
      next();
    };
  }

  /** Starts refusing new requests. `onRequestDone` runs after each in-flight request ends. */
  startDraining(onRequestDone?: () => void): void {
    this.#draining = true;
    this.#onIdleConnection = onRequestDone;
    // Answers not yet started close their connection when they end: no next request can then arrive on it
    // (and be refused) while this replica finishes.
    for (const res of this.#inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    for (const res of this.#listening) {
      if (res.headersSent) res.end();
      else res.destroy();
    }
    this.#listening.clear();
  }

  /** Open listening streams (GET text/event-stream), not counted as in flight. */
  get listening(): number {
    return this.#listening.size;
  }

  /** Resolves true when no request is in flight, or false when `timeoutMs` passes first. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.#inFlight.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        resolve(false);
      }, timeoutMs);
      this.#waiters.add(wake);
    });
  }
}

export interface GracefulShutdownOptions {
  servers: Server[];
  /** Longest wait for in-flight requests and streams. */
  timeoutMs: number;
  /** Wait between turning unready and closing the listeners. Default 0. */
  drainDelayMs?: number;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Run after requests drained (or timed out), in order: close Redis, flush the audit sink… */
  onClose?: Array<() => Promise<void> | void>;
  /** Signals that start the shutdown. Default SIGTERM and SIGINT. Pass [] in tests. */
  signals?: NodeJS.Signals[];
  /** Called with the exit code at the end. Default process.exit. */
  exit?: (code: number) => void;
  tracker?: InFlightTracker;
}

export interface GracefulShutdown {
  readonly tracker: InFlightTracker;
  isShuttingDown(): boolean;
  /** Starts the shutdown (idempotent); resolves after the exit callback ran. */
  shutdown(reason: string): Promise<void>;
  /** Removes the signal handlers (tests). */
  dispose(): void;
}

export function installGracefulShutdown(options: GracefulShutdownOptions): GracefulShutdown {
  const tracker = options.tracker ?? new InFlightTracker();
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let shuttingDown = false;
  let done: Promise<void> | undefined;

  const closeIdle = (): void => {
    for (const server of options.servers) server.closeIdleConnections();
  };

  const run = async (reason: string): Promise<void> => {
    options.logger?.info({ reason, inFlight: tracker.active, timeoutMs: options.timeoutMs }, 'shutting down: draining in-flight requests');
    const deadline = Date.now() + options.timeoutMs;
    if (options.drainDelayMs) await new Promise((r) => setTimeout(r, Math.min(options.drainDelayMs ?? 0, options.timeoutMs)));
    tracker.startDraining(closeIdle);
    for (const server of options.servers) server.close();
    closeIdle();
    const drained = await tracker.whenIdle(Math.max(0, deadline - Date.now()));
    if (!drained) options.logger?.warn({ inFlight: tracker.active }, 'shutdown timeout reached: closing requests still in flight');
    for (const server of options.servers) server.closeAllConnections();
    for (const hook of options.onClose ?? []) {
      try {
        await hook();
      } catch (err) {
        options.logger?.error({ err }, 'shutdown hook failed');
      }
    }
    options.logger?.info({ drained }, 'shutdown complete');
    exit(0);
  };

  const shutdown = (reason: string): Promise<void> => {
    if (!done) {
      shuttingDown = true;
      done = run(reason);
    }
    return done;
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (done) {
      // A second signal (Ctrl-C twice) means "now": skip the drain.
      options.logger?.warn({ signal }, 'second signal during shutdown: exiting at once');
      exit(1);
      return;
    }
    void shutdown(signal);
  };
  for (const s of signals) process.on(s, onSignal);

  return {
    tracker,
    isShuttingDown: () => shuttingDown,
    shutdown,
    dispose: () => {
      for (const s of signals) process.off(s, onSignal);
    },
  };
}
