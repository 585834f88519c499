import type { ServerResponse } from 'node:http';
import type { SessionStore } from '../sessions/store.js';
import { JsonRpcCode, McpRequestError } from './errors.js';

/**
 * GET streams on gateway sessions. The workers are stateless and never push outside a request, so a stream carries
 * keep-alive comments until the client leaves or the session ends. Each user may hold `maxPerUser` of them on a
 * replica: a stream costs a socket and a timer, and nothing else bounds how many a token can open.
 */
export class SessionStreams {
  readonly #bySession = new Map<string, Set<ServerResponse>>();
  readonly #perUser = new Map<string, number>();

  constructor(
    private readonly sessions: SessionStore,
    private readonly keepAliveMs: number,
    private readonly maxPerUser: number,
  ) {}

  /** Opens the stream, or throws 429 (Retry-After) when the user already holds the most allowed. */
  open(res: ServerResponse, sessionId: string, user: string): void {
    const held = this.#perUser.get(user) ?? 0;
    if (held >= this.maxPerUser) {
      throw new McpRequestError(429, JsonRpcCode.ServerError, `at most ${this.maxPerUser} open streams per user; close one first`, { 'Retry-After': String(Math.ceil(this.keepAliveMs / 1000)) });
    }
    this.#perUser.set(user, held + 1);
    res.statusCode = 200;
    res.setHeader('content-type', 'text/event-stream');
    res.setHeader('cache-control', 'no-cache, no-transform');
    res.setHeader('x-accel-buffering', 'no');
    res.flushHeaders();
    let set = this.#bySession.get(sessionId);
    if (!set) this.#bySession.set(sessionId, (set = new Set()));
    set.add(res);
    const timer = setInterval(() => {
      void this.sessions.exists(sessionId).then((alive) => (alive ? res.write(': keep-alive\n\n') : res.end()), () => undefined);
    }, this.keepAliveMs);
    timer.unref();
    res.once('close', () => {
      clearInterval(timer);
      set.delete(res);
      if (!set.size) this.#bySession.delete(sessionId);
      const n = (this.#perUser.get(user) ?? 1) - 1;
      if (n > 0) this.#perUser.set(user, n);
      else this.#perUser.delete(user);
    });
  }

  /** Ends this replica's streams of a session (DELETE). */
  end(sessionId: string): void {
    for (const r of this.#bySession.get(sessionId) ?? []) r.end();
  }

  closeAll(): void {
    for (const set of this.#bySession.values()) for (const r of set) r.end();
  }

  held(user: string): number {
    return this.#perUser.get(user) ?? 0;
  }
}
