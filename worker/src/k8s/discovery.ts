import { TtlCache } from './cache.js';
import { ToolRefusal } from './errors.js';
import type { KubeRest } from './rest.js';

/** One API resource as discovery reports it (preferred version first). */
export interface ApiResource {
  group: string;
  version: string;
  resource: string;
  kind: string;
  singular: string;
  namespaced: boolean;
  verbs: string[];
  shortNames: string[];
  subresources: string[];
  preferred: boolean;
}

interface AggregatedResource {
  resource: string;
  responseKind?: { group?: string; version?: string; kind?: string };
  scope: 'Namespaced' | 'Cluster';
  singularResource?: string;
  verbs?: string[];
  shortNames?: string[];
  subresources?: Array<{ subresource: string }>;
}
interface AggregatedList {
  items?: Array<{ metadata?: { name?: string }; versions?: Array<{ version: string; resources?: AggregatedResource[] }> }>;
}

const AGGREGATED_ACCEPT = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;q=0.9';
const DISCOVERY_TTL_MS = 5 * 60_000;

/** Discovery per cluster (aggregated discovery: two requests for every group, CRDs included), cached with a TTL. */
export class DiscoveryCache {
  private readonly cache = new TtlCache<Promise<ApiResource[]>>(DISCOVERY_TTL_MS, 64);

  /** Uses the caller's own client: discovery is readable by every authenticated user. */
  resources(rest: KubeRest): Promise<ApiResource[]> {
    const hit = this.cache.get(rest.cluster);
    if (hit) return hit;
    const p = loadResources(rest);
    this.cache.set(rest.cluster, p);
    p.catch(() => this.cache.delete(rest.cluster));
    return p;
  }

  invalidate(cluster: string): void {
    this.cache.delete(cluster);
  }

  /**
   * Finds a resource by kind ("Deployment"), plural ("deployments"), singular, short name ("deploy"),
   * optionally qualified by group ("deployments.apps") or pinned by apiVersion ("apps/v1").
   */
  async resolve(rest: KubeRest, kindOrResource: string, apiVersion?: string): Promise<ApiResource> {
    const all = await this.resources(rest);
    const found = matchResource(all, kindOrResource, apiVersion);
    if (found) return found;
    if (!apiVersion || !all.some((r) => `${r.group ? r.group + '/' : ''}${r.version}` === apiVersion)) {
      // A CRD created a moment ago: refresh once before giving up.
      this.invalidate(rest.cluster);
      const again = matchResource(await this.resources(rest), kindOrResource, apiVersion);
      if (again) return again;
    }
    throw new ToolRefusal(
      `the server doesn't have a resource type "${kindOrResource}"${apiVersion ? ` in ${apiVersion}` : ''}; api_resources_list shows what exists`,
    );
  }
}

export function matchResource(all: ApiResource[], kindOrResource: string, apiVersion?: string): ApiResource | undefined {
  let name = kindOrResource.trim();
  let group: string | undefined;
  let version: string | undefined;
  if (apiVersion) {
    const parts = apiVersion.split('/');
    [group, version] = parts.length === 2 ? [parts[0]!, parts[1]!] : ['', parts[0]!];
  } else if (name.includes('.')) {
    const i = name.indexOf('.');
    group = name.slice(i + 1);
    name = name.slice(0, i);
  }
  const lower = name.toLowerCase();
  const candidates = all.filter(
    (r) =>
      (group === undefined || r.group === group) &&
      (version === undefined || r.version === version) &&
      (r.kind.toLowerCase() === lower || r.resource === lower || r.singular === lower || r.shortNames.includes(lower)),
  );
  // Preferred versions first; core and well-known groups before others (like kubectl's ordering).
  candidates.sort((a, b) => Number(b.preferred) - Number(a.preferred) || groupRank(a.group) - groupRank(b.group));
  return candidates[0];
}

function groupRank(group: string): number {
  if (group === '') return 0;
  if (!group.includes('.') || group.endsWith('.k8s.io')) return 1;
  return 2;
}

async function loadResources(rest: KubeRest): Promise<ApiResource[]> {
  const [core, groups] = await Promise.all([
    rest.get<AggregatedList>('/api', { accept: AGGREGATED_ACCEPT }),
    rest.get<AggregatedList>('/apis', { accept: AGGREGATED_ACCEPT }),
  ]);
  const out: ApiResource[] = [];
  for (const list of [core, groups]) {
    for (const g of list.items ?? []) {
      const group = g.metadata?.name ?? '';
      (g.versions ?? []).forEach((v, vi) => {
        for (const r of v.resources ?? []) {
          out.push({
            group,
            version: v.version,
            resource: r.resource,
            kind: r.responseKind?.kind ?? r.resource,
            singular: r.singularResource ?? r.responseKind?.kind?.toLowerCase() ?? r.resource,
            namespaced: r.scope === 'Namespaced',
            verbs: r.verbs ?? [],
            shortNames: r.shortNames ?? [],
            subresources: (r.subresources ?? []).map((s) => s.subresource),
            preferred: vi === 0,
          });
        }
      });
    }
  }
  if (out.length === 0) throw new ToolRefusal('the apiserver answered discovery without aggregated resources (Kubernetes 1.30+ is required)');
  return out;
}

/** URL path for a resource collection or object. */
export function resourcePath(r: Pick<ApiResource, 'group' | 'version' | 'resource' | 'namespaced'>, namespace?: string, name?: string, subresource?: string): string {
  let p = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  if (r.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${r.resource}`;
  if (name) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

export function apiVersionOf(r: Pick<ApiResource, 'group' | 'version'>): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}
