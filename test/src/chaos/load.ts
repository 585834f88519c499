// Load from real MCP SDK clients through the topology's load balancer: half hold 2025-06-18 sessions, half send
// 2026-07-28 stateless requests; each runs tools/list and cheap tool calls in a loop plus one long streamed call
// (rollout_status waiting on a Deployment that never finishes). Bounded in count (clients) and time (stop()),
// loopback only. Every call is recorded with its start, end and outcome so a scenario can judge what a fault did.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { StackEnv } from '../stack/env.js';
import { userToken, type StackUser } from '../support/keycloak-tokens.js';
import { MODERN_REVISION } from '../worker/helpers.js';
import { sleep } from './scenario.js';
import { LONG_CALL_TARGET } from './topology.js';

export interface CallRecord {
  client: number;
  method: 'tools/list' | 'whoami' | 'long';
  start: number;
  end: number;
  /** undefined = succeeded. */
  failure?: string;
  /** The error's message or the tool error's text (first 200 characters). */
  detail?: string;
}

export interface LoadOptions {
  env: StackEnv;
  url: string;
  clients: number;
  /** Seconds each long call waits (rollout_status wait). */
  longCallSeconds: number;
  /** Pause between one client's cheap calls. */
  pauseMs: number;
  report: (line: string) => void;
}

// Both may read team-a (the long call's Deployment); carol may not.
const USERS: StackUser[] = ['alice', 'bob'];

/** Kind of a failed call, from what the SDK threw: HTTP status, JSON-RPC code, SDK code, or a network error. */
export function failureKind(err: unknown): string {
  const e = err as { status?: unknown; code?: unknown; name?: unknown; message?: unknown; cause?: { code?: unknown } };
  if (typeof e.status === 'number') return `http ${e.status}`;
  if (typeof e.code === 'number') return `jsonrpc ${e.code}`;
  if (typeof e.code === 'string') return `sdk ${e.code}`;
  if (e.name === 'TypeError') return `network ${typeof e.cause?.code === 'string' ? e.cause.code : ''}`.trim();
  return String(e.name ?? 'error');
}

/** A session the gateway no longer knows: the SDK's HTTP error 404 on a request that carried its Mcp-Session-Id. */
function sessionGone(err: unknown): boolean {
  return (err as { status?: unknown }).status === 404;
}

export class Load {
  readonly records: CallRecord[] = [];
  sessionsLost = 0;
  unauthenticated200 = 0;
  #tokens = new Map<StackUser, string>();
  #stopping = false;
  #loops: Promise<void>[] = [];
  #clients: Client[] = [];
  #refresher: NodeJS.Timeout | undefined;

  constructor(private readonly opts: LoadOptions) {}

  async start(): Promise<void> {
    await this.#refreshTokens();
    // Keycloak's access tokens live a few minutes; a soak outlives them.
    this.#refresher = setInterval(() => void this.#refreshTokens().catch((e: unknown) => this.opts.report(`token refresh failed: ${String(e)}`)), 60_000);
    const connected = await Promise.all(Array.from({ length: this.opts.clients }, (_, i) => this.#connect(i)));
    for (let i = 0; i < connected.length; i++) {
      this.#loops.push(this.#cheapLoop(i, connected[i]!), this.#longLoop(i, connected[i]!), this.#probeLoop(i));
    }
  }

  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    clearInterval(this.#refresher);
    await Promise.all(this.#loops);
    await Promise.all(this.#clients.map((c) => c.close().catch(() => undefined)));
  }

  /** Calls that started before `t` and ended after it: in flight at that moment. */
  inFlightAt(t: number): CallRecord[] {
    return this.records.filter((r) => r.start <= t && r.end >= t);
  }

  failures(from = 0, to = Infinity): CallRecord[] {
    return this.records.filter((r) => r.failure && r.end >= from && r.start <= to);
  }

  /** Milliseconds from `t` until every client had a call started after `t` succeed (null if one never did). */
  recoveryAfter(t: number): number | null {
    let worst = 0;
    for (let c = 0; c < this.opts.clients; c++) {
      const first = this.records.filter((r) => r.client === c && r.start >= t && !r.failure).reduce((m, r) => Math.min(m, r.end), Infinity);
      if (!Number.isFinite(first)) return null;
      worst = Math.max(worst, first - t);
    }
    return worst;
  }

  /** One example message per failure kind, for the notes. */
  examples(): string[] {
    const seen = new Map<string, string>();
    for (const r of this.records) if (r.failure && !seen.has(`${r.method}: ${r.failure}`)) seen.set(`${r.method}: ${r.failure}`, r.detail ?? '');
    return [...seen].map(([k, d]) => `${k}, e.g. ${d}`);
  }

  summary(): { attempted: number; succeeded: number; failedByKind: Record<string, number> } {
    const failedByKind: Record<string, number> = {};
    for (const r of this.records) if (r.failure) failedByKind[`${r.method}: ${r.failure}`] = (failedByKind[`${r.method}: ${r.failure}`] ?? 0) + 1;
    return { attempted: this.records.length, succeeded: this.records.filter((r) => !r.failure).length, failedByKind };
  }

  async #refreshTokens(): Promise<void> {
    for (const u of USERS) this.#tokens.set(u, (await userToken(this.opts.env, u)).access_token);
  }

  #token(i: number): string {
    return this.#tokens.get(USERS[i % USERS.length]!)!;
  }

  async #connect(i: number): Promise<Client> {
    const modern = i % 2 === 1;
    const client = new Client({ name: `chaos-${i}`, version: '0.0.0' }, modern ? { versionNegotiation: { mode: { pin: MODERN_REVISION } } } : {});
    // The token is read per request, so a refreshed one reaches clients that connected earlier.
    const authed: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${this.#token(i)}`);
      return fetch(input, { ...init, headers });
    };
    for (let attempt = 0; ; attempt++) {
      try {
        await client.connect(new StreamableHTTPClientTransport(new URL(this.opts.url), { fetch: authed }));
        break;
      } catch (err) {
        if (attempt >= 20 || this.#stopping) throw err;
        await sleep(250);
      }
    }
    this.#clients[i] = client;
    return client;
  }

  async #record(client: number, method: CallRecord['method'], call: () => Promise<{ isError?: boolean } | unknown>): Promise<unknown> {
    const start = Date.now();
    try {
      const res = await call();
      const isError = (res as { isError?: boolean } | undefined)?.isError === true;
      const text = () => JSON.stringify((res as { content?: unknown }).content ?? '').slice(0, 200);
      this.records.push({ client, method, start, end: Date.now(), ...(isError ? { failure: 'tool error', detail: text() } : {}) });
      return undefined;
    } catch (err) {
      this.records.push({ client, method, start, end: Date.now(), failure: failureKind(err), detail: String((err as Error).message ?? err).slice(0, 200) });
      return err;
    }
  }

  /** A lost session counts once, then the client starts a new one so the load goes on. */
  async #afterFailure(i: number, err: unknown, current: Client): Promise<Client> {
    if (!sessionGone(err) || this.#clients[i] !== current) return this.#clients[i] ?? current;
    this.sessionsLost++;
    this.opts.report(`client ${i}: session lost (${failureKind(err)}); reconnecting`);
    await current.close().catch(() => undefined);
    return this.#connect(i);
  }

  async #cheapLoop(i: number, first: Client): Promise<void> {
    let client = first;
    let n = 0;
    while (!this.#stopping) {
      const err = n++ % 2 === 0 ? await this.#record(i, 'tools/list', () => client.listTools(undefined, { timeout: 30_000 })) : await this.#record(i, 'whoami', () => client.callTool({ name: 'whoami', arguments: {} }, { timeout: 30_000 }));
      if (err) client = await this.#afterFailure(i, err, client);
      client = this.#clients[i] ?? client;
      await sleep(this.opts.pauseMs);
    }
  }

  async #longLoop(i: number, first: Client): Promise<void> {
    let client = first;
    // Spread the long calls' starts so they do not all end at the same moment.
    await sleep((i * 997) % Math.max(1, this.opts.longCallSeconds * 1000));
    while (!this.#stopping) {
      const args = { ...LONG_CALL_TARGET, wait: this.opts.longCallSeconds };
      const err = await this.#record(i, 'long', () => client.callTool({ name: 'rollout_status', arguments: args }, { timeout: (this.opts.longCallSeconds + 30) * 1000 }));
      if (err) client = await this.#afterFailure(i, err, client);
      client = this.#clients[i] ?? client;
    }
  }

  /** Requests with no token and with a stale one: every 200 among them is an authentication bypass. */
  async #probeLoop(i: number): Promise<void> {
    if (i % 10 !== 0) return;
    const stale = `${this.#token(i).slice(0, -8)}AAAAAAAA`;
    while (!this.#stopping) {
      for (const auth of [undefined, stale]) {
        const res = await fetch(this.opts.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
          signal: AbortSignal.timeout(30_000),
        }).catch(() => undefined);
        if (res?.status === 200) this.unauthenticated200++;
        await res?.body?.cancel().catch(() => undefined);
      }
      await sleep(1000);
    }
  }
}
