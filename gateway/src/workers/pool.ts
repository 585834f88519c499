import type { Logger } from '@kmg/shared/logger';
import type { ClusterConfig } from '../config/mcp.js';

interface Target {
  /** Origin of the worker (scheme://host:port): what the proxy targets. */
  url: string;
  /** Its MCP endpoint path: from the configured URL when it has one, else the cluster's workerPath. */
  mcpPath: string;
  healthy: boolean;
  /** While > now, skipped after a failed connect even if the last health check passed. */
  downUntil: number;
}

/**
 * The workers of one cluster: round-robin across healthy ones, active health checks on `/healthz`,
 * and a target marked down at once when a connect fails (the next check brings it back).
 */
export class WorkerPool {
  readonly #targets: Target[];
  #next = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly cluster: ClusterConfig,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    const urls = cluster.workers as string[];
    this.#targets = urls.map((raw) => {
      const u = new URL(raw);
      const path = u.pathname.replace(/\/+$/, '');
      return { url: u.origin, mcpPath: path || cluster.workerPath, healthy: true, downUntil: 0 };
    });
  }

  start(): void {
    if (this.#timer) return;
    void this.checkAll();
    this.#timer = setInterval(() => void this.checkAll(), this.cluster.healthCheck.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Next usable worker not in `exclude`; when none is healthy, any not excluded (a check may be stale). */
  pick(exclude: ReadonlySet<string> = new Set()): string | undefined {
    const n = this.#targets.length;
    const now = this.now();
    for (let i = 0; i < n; i++) {
      const t = this.#targets[(this.#next + i) % n]!;
      if (t.healthy && t.downUntil <= now && !exclude.has(t.url)) {
        this.#next = (this.#next + i + 1) % n;
        return t.url;
      }
    }
    return this.#targets.find((t) => !exclude.has(t.url))?.url;
  }

  /** The MCP endpoint path of a worker this pool picked. */
  mcpPath(url: string): string {
    return this.#targets.find((t) => t.url === url)?.mcpPath ?? this.cluster.workerPath;
  }

  markDown(url: string): void {
    const t = this.#targets.find((x) => x.url === url);
    if (!t) return;
    t.downUntil = this.now() + this.cluster.healthCheck.intervalMs;
    if (t.healthy) this.logger.warn({ worker: url, cluster: this.cluster.name }, 'worker unreachable; routing around it');
    t.healthy = false;
  }

  get size(): number {
    return this.#targets.length;
  }

  healthyCount(): number {
    return this.#targets.filter((t) => t.healthy).length;
  }

  async checkAll(): Promise<void> {
    await Promise.all(this.#targets.map((t) => this.#check(t)));
  }

  async #check(t: Target): Promise<void> {
    let ok = false;
    try {
      const res = await fetch(t.url + this.cluster.healthCheck.path, { signal: AbortSignal.timeout(this.cluster.healthCheck.timeoutMs) });
      ok = res.ok;
      await res.body?.cancel();
    } catch {
      ok = false;
    }
    if (ok !== t.healthy) this.logger.info({ worker: t.url, cluster: this.cluster.name, healthy: ok }, 'worker health changed');
    t.healthy = ok;
    if (ok) t.downUntil = 0;
  }
}
