// The objects a pod (template) needs to exist before its containers can start: Secrets, ConfigMaps, PVCs and its
// ServiceAccount, where each is used, and whether each exists. Existence is read as metadata only, so no Secret
// value is ever downloaded, let alone shown.
import { z } from 'zod';
import { resourcePath } from '../../k8s/discovery.js';
import { errorFromResponse, ToolRefusal } from '../../k8s/errors.js';
import type { ToolContext } from '../define.js';
import { mapLimit } from '../map-limit.js';
import { assertKindAllowed } from '../policy.js';
import { builtin, SECRETS } from '../resources/common.js';

export type RefKind = 'Secret' | 'ConfigMap' | 'PersistentVolumeClaim' | 'ServiceAccount';

export interface Reference {
  kind: RefKind;
  name: string;
  /** Where the template uses it: "volume tls", "env DB_PASSWORD (gw)", "envFrom (gw)", "imagePullSecrets", "serviceAccountName". */
  uses: string[];
  /** Every use is marked optional: a missing object does not stop the pod. */
  optional: boolean;
}

export type RefStatus = 'exists' | 'missing' | 'forbidden' | 'not checked';

export interface CheckedReference extends Reference {
  status: RefStatus;
  /** Why it could not be checked. */
  detail?: string;
}

export const referenceSchema = z.object({
  kind: z.string(),
  name: z.string(),
  uses: z.array(z.string()),
  optional: z.boolean(),
  status: z.enum(['exists', 'missing', 'forbidden', 'not checked']),
  detail: z.string().optional(),
});

interface KeyRef {
  name?: string;
  optional?: boolean;
}
export interface ContainerRefs {
  name?: string;
  env?: Array<{ name?: string; valueFrom?: { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef } }>;
  envFrom?: Array<{ secretRef?: KeyRef; configMapRef?: KeyRef }>;
}
interface ProjectionRefs {
  secret?: KeyRef;
  configMap?: KeyRef;
}
interface VolumeRefs {
  name?: string;
  secret?: { secretName?: string; optional?: boolean };
  configMap?: KeyRef;
  persistentVolumeClaim?: { claimName?: string };
  projected?: { sources?: ProjectionRefs[] };
}
export interface PodSpecRefs {
  containers?: ContainerRefs[];
  initContainers?: ContainerRefs[];
  volumes?: VolumeRefs[];
  imagePullSecrets?: Array<{ name?: string }>;
  serviceAccountName?: string;
  /** Deprecated alias the apiserver still fills in. */
  serviceAccount?: string;
}

/** Every object the pod spec references, in first-use order, one entry per kind and name. */
export function podSpecReferences(spec: PodSpecRefs | undefined): Reference[] {
  const refs = new Map<string, Reference>();
  const add = (kind: RefKind, name: string | undefined, use: string, optional = false) => {
    if (!name) return;
    const key = `${kind}/${name}`;
    const r = refs.get(key) ?? { kind, name, uses: [], optional: true };
    if (!r.uses.includes(use)) r.uses.push(use);
    r.optional &&= optional;
    refs.set(key, r);
  };
  for (const v of spec?.volumes ?? []) {
    add('Secret', v.secret?.secretName, `volume ${v.name}`, v.secret?.optional);
    add('ConfigMap', v.configMap?.name, `volume ${v.name}`, v.configMap?.optional);
    add('PersistentVolumeClaim', v.persistentVolumeClaim?.claimName, `volume ${v.name}`);
    for (const s of v.projected?.sources ?? []) {
      add('Secret', s.secret?.name, `projected volume ${v.name}`, s.secret?.optional);
      add('ConfigMap', s.configMap?.name, `projected volume ${v.name}`, s.configMap?.optional);
    }
  }
  for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
    for (const e of c.env ?? []) {
      add('Secret', e.valueFrom?.secretKeyRef?.name, `env ${e.name} (${c.name})`, e.valueFrom?.secretKeyRef?.optional);
      add('ConfigMap', e.valueFrom?.configMapKeyRef?.name, `env ${e.name} (${c.name})`, e.valueFrom?.configMapKeyRef?.optional);
    }
    for (const e of c.envFrom ?? []) {
      add('Secret', e.secretRef?.name, `envFrom (${c.name})`, e.secretRef?.optional);
      add('ConfigMap', e.configMapRef?.name, `envFrom (${c.name})`, e.configMapRef?.optional);
    }
  }
  for (const s of spec?.imagePullSecrets ?? []) add('Secret', s.name, 'imagePullSecrets', true);
  const sa = spec?.serviceAccountName ?? spec?.serviceAccount;
  add('ServiceAccount', sa ?? 'default', sa ? 'serviceAccountName' : 'serviceAccountName (unset: default)');
  return [...refs.values()];
}

const RESOURCES = {
  Secret: SECRETS,
  ConfigMap: builtin('', 'v1', 'configmaps', 'ConfigMap', true),
  PersistentVolumeClaim: builtin('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', true),
  ServiceAccount: builtin('', 'v1', 'serviceaccounts', 'ServiceAccount', true),
} as const;

/** Only the object's metadata comes back (no `data`): the apiserver answers 406 rather than the full object if it cannot. */
const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';
/** More than any pod template references; past it, the rest are listed as not checked. */
const MAX_CHECKS = 40;

/** Checks each reference exists by a metadata-only GET; a refusal or error marks that one reference, never the whole call. */
export async function checkReferences(ctx: ToolContext, namespace: string, refs: Reference[]): Promise<CheckedReference[]> {
  const rest = ctx.clients().rest;
  return mapLimit(refs, 4, async (r, i): Promise<CheckedReference> => {
    if (i >= MAX_CHECKS) return { ...r, status: 'not checked', detail: `over ${MAX_CHECKS} references` };
    const res = RESOURCES[r.kind];
    try {
      assertKindAllowed([res.kind], [res.resource], ctx.policy, ctx.cluster.name);
    } catch (err) {
      if (err instanceof ToolRefusal) return { ...r, status: 'not checked', detail: err.message };
      throw err;
    }
    // The body is never parsed or shown: only the status code is used.
    const path = resourcePath(res, namespace, r.name);
    const got = await rest.raw('GET', path, { accept: METADATA_ACCEPT, maxBytes: 64 * 1024, signal: ctx.signal });
    if (got.status >= 200 && got.status < 300) return { ...r, status: 'exists' };
    if (got.status === 404) return { ...r, status: 'missing' };
    if (got.status === 403) return { ...r, status: 'forbidden', detail: `cannot check (forbidden to get ${res.resource})` };
    if (got.status === 401) throw errorFromResponse(rest.cluster, got.status, got.text, path);
    return { ...r, status: 'not checked', detail: `cannot check (HTTP ${got.status})` };
  });
}

/** What a missing reference does to the pods, for the "what to look at first" list. */
export function referenceHints(refs: CheckedReference[]): string[] {
  return refs
    .filter((r) => r.status === 'missing' && !r.optional)
    .map((r) => {
      const where = r.uses.join(', ');
      const effect =
        r.kind === 'PersistentVolumeClaim'
          ? 'pods using it stay Pending'
          : r.kind === 'ServiceAccount'
            ? 'the ReplicaSet/Job cannot create pods (FailedCreate)'
            : r.uses.some((u) => u.startsWith('env'))
              ? 'containers using it fail with CreateContainerConfigError'
              : 'pods using it stay ContainerCreating (FailedMount)';
      return `${r.kind} ${r.name} does not exist (${where}): ${effect}; create it or fix the name`;
    });
}

export function referenceLines(refs: CheckedReference[]): string {
  // The implicit default ServiceAccount, when it exists, is in every namespace and says nothing.
  const shown = refs.filter((r) => !(r.kind === 'ServiceAccount' && r.status === 'exists' && r.uses.every((u) => u.startsWith('serviceAccountName (unset'))));
  if (!shown.length) return refs.length ? 'references: none besides the default ServiceAccount' : 'references: none';
  const lines = shown.map((r) => `  ${r.kind} ${r.name}: ${r.status === 'missing' ? 'MISSING' : r.status === 'exists' ? 'exists' : r.detail ?? r.status}${r.optional ? ' (optional)' : ''}; ${r.uses.join(', ')}`);
  return `references (checked by metadata only; no Secret data read):\n${lines.join('\n')}`;
}
