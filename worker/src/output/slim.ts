/**
 * `normal` detail for a language model: what the object says, not what the apiserver filled in.
 * Drops empty values, fields equal to Kubernetes defaults, the injected service-account token
 * volume and duplicated single-IP lists. `full` keeps everything.
 */

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Maps whose empty values carry meaning (a key with an empty value is still a key). */
const OPAQUE_MAPS = new Set(['data', 'stringData', 'binaryData', 'labels', 'annotations', 'matchLabels', 'nodeSelector', 'selector', 'values']);

/** Removes null, "", {} and [] recursively, leaving opaque maps' entries alone. */
export function pruneEmpty(value: unknown): unknown {
  if (Array.isArray(value)) {
    const out = value.map(pruneEmpty).filter((v) => !isEmpty(v));
    return out;
  }
  if (!isObj(value)) return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    const pruned = OPAQUE_MAPS.has(k) && isObj(v) ? v : pruneEmpty(v);
    if (!isEmpty(pruned)) out[k] = pruned;
  }
  return out;
}

function isEmpty(v: unknown): boolean {
  return v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0) || (isObj(v) && Object.keys(v).length === 0);
}

const CONTAINER_DEFAULTS: Obj = {
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
  imagePullPolicy: 'IfNotPresent',
};

const POD_SPEC_DEFAULTS: Obj = {
  restartPolicy: 'Always',
  terminationGracePeriodSeconds: 30,
  dnsPolicy: 'ClusterFirst',
  schedulerName: 'default-scheduler',
  priority: 0,
  enableServiceLinks: true,
  preemptionPolicy: 'PreemptLowerPriority',
};

function dropDefaults(o: Obj, defaults: Obj): void {
  for (const [k, v] of Object.entries(defaults)) if (o[k] === v) delete o[k];
}

function isDefaultToleration(t: unknown): boolean {
  return (
    isObj(t) &&
    (t.key === 'node.kubernetes.io/not-ready' || t.key === 'node.kubernetes.io/unreachable') &&
    t.operator === 'Exists' &&
    t.effect === 'NoExecute' &&
    t.tolerationSeconds === 300
  );
}

function slimContainer(c: unknown, tokenVolume: string | undefined): void {
  if (!isObj(c)) return;
  dropDefaults(c, CONTAINER_DEFAULTS);
  if (Array.isArray(c.ports)) for (const p of c.ports) if (isObj(p) && p.protocol === 'TCP') delete p.protocol;
  if (tokenVolume && Array.isArray(c.volumeMounts)) c.volumeMounts = c.volumeMounts.filter((m) => !(isObj(m) && m.name === tokenVolume));
}

/** Pod spec (also a template's spec): defaults, default tolerations, the injected token volume. */
function slimPodSpec(spec: unknown): void {
  if (!isObj(spec)) return;
  dropDefaults(spec, POD_SPEC_DEFAULTS);
  if (spec.serviceAccount === spec.serviceAccountName) delete spec.serviceAccount;
  if (Array.isArray(spec.tolerations)) spec.tolerations = spec.tolerations.filter((t) => !isDefaultToleration(t));
  let tokenVolume: string | undefined;
  if (Array.isArray(spec.volumes)) {
    const injected = spec.volumes.find((v) => isObj(v) && typeof v.name === 'string' && v.name.startsWith('kube-api-access-') && isObj(v.projected));
    if (injected && isObj(injected)) {
      tokenVolume = injected.name as string;
      spec.volumes = spec.volumes.filter((v) => v !== injected);
    }
  }
  for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
    if (Array.isArray(spec[list])) for (const c of spec[list] as unknown[]) slimContainer(c, tokenVolume);
  }
}

function slimPodStatus(status: unknown): void {
  if (!isObj(status)) return;
  const single = (list: unknown, ip: unknown) => Array.isArray(list) && list.length === 1 && isObj(list[0]) && list[0].ip === ip;
  if (single(status.hostIPs, status.hostIP)) delete status.hostIPs;
  if (single(status.podIPs, status.podIP)) delete status.podIPs;
}

function slimWorkloadSpec(kind: string, spec: unknown): void {
  if (!isObj(spec)) return;
  if (kind === 'Deployment') {
    if (spec.progressDeadlineSeconds === 600) delete spec.progressDeadlineSeconds;
    const s = spec.strategy;
    if (isObj(s) && s.type === 'RollingUpdate' && isObj(s.rollingUpdate) && s.rollingUpdate.maxSurge === '25%' && s.rollingUpdate.maxUnavailable === '25%') delete spec.strategy;
  }
  if (spec.revisionHistoryLimit === 10) delete spec.revisionHistoryLimit;
  if (isObj(spec.template)) slimPodSpec(spec.template.spec);
  const job = isObj(spec.jobTemplate) && isObj(spec.jobTemplate.spec) ? spec.jobTemplate.spec : undefined;
  if (job && isObj(job.template)) slimPodSpec(job.template.spec);
}

/** Returns a slimmed deep copy; the input is not modified. */
export function slimDefaults<T>(obj: T): T {
  if (!isObj(obj)) return obj;
  const copy = structuredClone(obj) as Obj;
  const kind = typeof copy.kind === 'string' ? copy.kind : '';
  const meta = copy.metadata;
  if (isObj(meta)) {
    // Concurrency and bookkeeping fields; `full` keeps them.
    delete meta.resourceVersion;
    delete meta.generation;
  }
  if (kind === 'Pod') {
    slimPodSpec(copy.spec);
    slimPodStatus(copy.status);
  } else if (kind) {
    slimWorkloadSpec(kind, copy.spec);
  }
  return pruneEmpty(copy) as T;
}
