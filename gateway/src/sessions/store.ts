import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import type { KvStore } from '../store/kv.js';

/**
 * MCP sessions are owned by the gateway, not the workers. Workers are stateless (any replica answers any
 * request), so the gateway mints `Mcp-Session-Id` when a 2025-era client initializes, binds it in the store
 * to the user who opened it, and strips it before forwarding. Any gateway replica can then check it; a session id
 * presented with another user's token is answered as unknown.
 */
export const sessionRecordSchema = z.object({
  org: z.string(),
  sub: z.string(),
  clientId: z.string(),
  protocolVersion: z.string().optional(),
  createdAt: z.number(),
});
export type SessionRecord = z.infer<typeof sessionRecordSchema>;

export type SessionLookup = { ok: true; record: SessionRecord } | { ok: false; reason: 'unknown' | 'other_principal' };

/** Visible ASCII only (spec), unguessable: 192 random bits. */
const SESSION_ID = /^[A-Za-z0-9_-]{32}$/;

export class SessionStore {
  /** Last time this process extended a session's TTL, so a busy session is not touched on every request. */
  readonly #touched = new Map<string, number>();

  constructor(
    private readonly kv: KvStore,
    private readonly now: () => number = Date.now,
  ) {}

  async open(principal: Principal, ttlSeconds: number, protocolVersion?: string): Promise<string> {
    const id = randomBytes(24).toString('base64url');
    const record: SessionRecord = { org: principal.org, sub: principal.sub, clientId: principal.clientId, createdAt: Math.floor(this.now() / 1000), ...(protocolVersion ? { protocolVersion } : {}) };
    await this.kv.set(key(id), JSON.stringify(record), ttlSeconds);
    return id;
  }

  async lookup(id: string, principal: Principal, ttlSeconds: number): Promise<SessionLookup> {
    if (!SESSION_ID.test(id)) return { ok: false, reason: 'unknown' };
    const raw = await this.kv.get(key(id));
    if (!raw) return { ok: false, reason: 'unknown' };
    const parsed = sessionRecordSchema.safeParse(JSON.parse(raw));
    if (!parsed.success) return { ok: false, reason: 'unknown' };
    // Bound to the user and org, not to the access token: a refreshed token keeps the session.
    if (parsed.data.sub !== principal.sub || parsed.data.org !== principal.org) return { ok: false, reason: 'other_principal' };
    const nowMs = this.now();
    const last = this.#touched.get(id) ?? 0;
    if (nowMs - last > Math.min(60_000, (ttlSeconds * 1000) / 4)) {
      this.#touched.set(id, nowMs);
      if (this.#touched.size > 50_000) this.#touched.clear();
      await this.kv.expire(key(id), ttlSeconds);
    }
    return { ok: true, record: parsed.data };
  }

  async exists(id: string): Promise<boolean> {
    return SESSION_ID.test(id) && (await this.kv.get(key(id))) !== null;
  }

  async end(id: string): Promise<void> {
    this.#touched.delete(id);
    await this.kv.del(key(id));
  }
}

function key(id: string): string {
  return `mcps:${id}`;
}
