// oidc-provider's storage for the development identity provider: in memory, as npm start keeps nothing
// across restarts. Giving the provider this adapter (its documented interface) instead of relying on its
// built-in one is what keeps it quiet: it warns on every start when it falls back to its own.

interface Entry {
  payload: Record<string, unknown>;
  expiresAt: number;
}

const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/** Shared by every model's adapter of one provider; dropped with it. */
export class DevIdpStore {
  readonly entries = new Map<string, Entry>();
  readonly index = new Map<string, string>();
  readonly grants = new Map<string, Set<string>>();

  get(key: string): Record<string, unknown> | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.payload;
  }

  /** An adapter factory for the provider's `adapter` option. */
  adapterFor = (model: string) => new DevIdpAdapter(model, this);
}

class DevIdpAdapter {
  constructor(
    private readonly model: string,
    private readonly store: DevIdpStore,
  ) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  async upsert(id: string, payload: Record<string, unknown>, expiresIn: number): Promise<void> {
    const key = this.key(id);
    this.store.entries.set(key, { payload, expiresAt: Date.now() + expiresIn * 1000 });
    if (typeof payload.uid === 'string' && this.model === 'Session') this.store.index.set(`uid:${payload.uid}`, id);
    if (typeof payload.userCode === 'string') this.store.index.set(`userCode:${payload.userCode}`, id);
    if (GRANTABLE.has(this.model) && typeof payload.grantId === 'string') {
      const keys = this.store.grants.get(payload.grantId) ?? new Set<string>();
      keys.add(key);
      this.store.grants.set(payload.grantId, keys);
    }
  }

  async find(id: string): Promise<Record<string, unknown> | undefined> {
    return this.store.get(this.key(id));
  }

  async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
    const id = this.store.index.get(`uid:${uid}`);
    return id ? this.find(id) : undefined;
  }

  async findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined> {
    const id = this.store.index.get(`userCode:${userCode}`);
    return id ? this.find(id) : undefined;
  }

  async consume(id: string): Promise<void> {
    const payload = this.store.get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.store.entries.delete(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const key of this.store.grants.get(grantId) ?? []) this.store.entries.delete(key);
    this.store.grants.delete(grantId);
  }
}
