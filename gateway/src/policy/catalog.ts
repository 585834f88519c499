import type { ToolInfo } from './tools.js';

/**
 * What each cluster's workers say about their tools (name + annotations), learned from tools/list
 * responses as they pass and, for a call to a tool not seen yet, fetched on demand. Policy needs the
 * annotations to tell read tools from write tools.
 */
export class ToolCatalog {
  readonly #byCluster = new Map<string, { tools: Map<string, ToolInfo>; at: number }>();

  constructor(
    private readonly maxAgeMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  learn(clusterKey: string, tools: ToolInfo[]): void {
    let entry = this.#byCluster.get(clusterKey);
    if (!entry || this.now() - entry.at > this.maxAgeMs) {
      entry = { tools: new Map(), at: this.now() };
      this.#byCluster.set(clusterKey, entry);
    }
    for (const t of tools) if (typeof t?.name === 'string') entry.tools.set(t.name, { name: t.name, annotations: t.annotations });
  }

  lookup(clusterKey: string, name: string): ToolInfo | undefined {
    const entry = this.#byCluster.get(clusterKey);
    if (!entry || this.now() - entry.at > this.maxAgeMs) return undefined;
    return entry.tools.get(name);
  }
}
