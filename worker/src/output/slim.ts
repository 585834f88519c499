/**
 * `normal` detail for a language model: what the object says, not what the apiserver filled in.
 *
 * The rule is narrow on purpose: drop only what Kubernetes itself writes when the user wrote
 * nothing (a field equal to its documented default, a zero timestamp serialised as null, the
 * always-serialised empty `resources: {}` / `securityContext: {}` / `status: {}`, the injected
 * service-account token volume, single-IP lists that repeat podIP). A value the user can write
 * whose presence carries meaning (`podSelector: {}`, `ingress: [{}]`, `emptyDir: {}`, an empty
 * string argument, an empty label value) is never dropped, because dropping it changes what the
 * object means (an allow-all NetworkPolicy would read as deny-all). `full` keeps everything.
 */

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isEmptyObj(v: unknown): boolean {
  return isObj(v) && Object.keys(v).length === 0;
}

/** A zero metav1.Time serialises as null (creationTimestamp of a template, lastProbeTime of a condition). */
const TIME_KEY = /(Timestamp|Time)$/;

/** Removes null timestamps recursively; nothing else. */
function dropNullTimes(value: unknown): void {
  if (Array.isArray(value)) {
    for (const v of value) dropNullTimes(v);
    return;
  }
  if (!isObj(value)) return;
  for (const [k, v] of Object.entries(value)) {
    if (v === null && TIME_KEY.test(k)) delete value[k];
    else dropNullTimes(v);
  }
}

/** Deletes `key` when it holds `{}` (a struct the apiserver always serialises, empty because nobody set it). */
function dropEmpty(o: Obj, key: string): void {
  if (isEmptyObj(o[key])) delete o[key];
}

const CONTAINER_DEFAULTS: Obj = {
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
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

/** imagePullPolicy defaults to Always for :latest or untagged images, IfNotPresent otherwise. */
function defaultPullPolicy(image: unknown): string | undefined {
  if (typeof image !== 'string') return undefined;
  if (image.includes('@')) return 'IfNotPresent';
  const tag = /:([^/:]+)$/.exec(image)?.[1];
  return !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function slimContainer(c: unknown, tokenVolume: string | undefined): void {
  if (!isObj(c)) return;
  dropDefaults(c, CONTAINER_DEFAULTS);
  if (c.imagePullPolicy !== undefined && c.imagePullPolicy === defaultPullPolicy(c.image)) delete c.imagePullPolicy;
  dropEmpty(c, 'resources');
  if (Array.isArray(c.ports)) for (const p of c.ports) if (isObj(p) && p.protocol === 'TCP') delete p.protocol;
  if (tokenVolume && Array.isArray(c.volumeMounts)) {
    c.volumeMounts = c.volumeMounts.filter((m) => !(isObj(m) && m.name === tokenVolume));
    if (!(c.volumeMounts as unknown[]).length) delete c.volumeMounts;
  }
}

/** Pod spec (also a template's spec): defaults, default tolerations, the injected token volume. */
function slimPodSpec(spec: unknown): void {
  if (!isObj(spec)) return;
  dropDefaults(spec, POD_SPEC_DEFAULTS);
  dropEmpty(spec, 'securityContext');
  if (spec.serviceAccount === spec.serviceAccountName) delete spec.serviceAccount;
  if (Array.isArray(spec.tolerations)) {
    spec.tolerations = spec.tolerations.filter((t) => !isDefaultToleration(t));
    if (!(spec.tolerations as unknown[]).length) delete spec.tolerations;
  }
  let tokenVolume: string | undefined;
  if (Array.isArray(spec.volumes)) {
    const injected = spec.volumes.find((v) => isObj(v) && typeof v.name === 'string' && v.name.startsWith('kube-api-access-') && isObj(v.projected));
    if (injected && isObj(injected)) {
      tokenVolume = injected.name as string;
      spec.volumes = spec.volumes.filter((v) => v !== injected);
      if (!(spec.volumes as unknown[]).length) delete spec.volumes;
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
  // lastState is always serialised; {} means the container never terminated before.
  for (const list of ['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses']) {
    if (Array.isArray(status[list])) for (const c of status[list] as unknown[]) if (isObj(c)) dropEmpty(c, 'lastState');
  }
}

function slimTemplate(template: unknown): void {
  if (!isObj(template)) return;
  dropEmpty(template, 'metadata');
  slimPodSpec(template.spec);
}

function slimWorkloadSpec(kind: string, spec: unknown): void {
  if (!isObj(spec)) return;
  if (kind === 'Deployment') {
    if (spec.progressDeadlineSeconds === 600) delete spec.progressDeadlineSeconds;
    const s = spec.strategy;
    if (isObj(s) && s.type === 'RollingUpdate' && isObj(s.rollingUpdate) && s.rollingUpdate.maxSurge === '25%' && s.rollingUpdate.maxUnavailable === '25%' && Object.keys(s).length === 2)
      delete spec.strategy;
  }
  if (kind === 'Deployment' || kind === 'StatefulSet' || kind === 'DaemonSet' || kind === 'ReplicaSet') {
    if (spec.revisionHistoryLimit === 10) delete spec.revisionHistoryLimit;
  }
  slimTemplate(spec.template);
  const job = isObj(spec.jobTemplate) && isObj(spec.jobTemplate.spec) ? spec.jobTemplate.spec : undefined;
  if (isObj(spec.jobTemplate)) dropEmpty(spec.jobTemplate, 'metadata');
  if (job) slimTemplate(job.template);
}

/** Returns a slimmed deep copy; the input is not modified. */
export function slimDefaults<T>(obj: T): T {
  if (!isObj(obj)) return obj;
  const copy = structuredClone(obj) as Obj;
  const kind = typeof copy.kind === 'string' ? copy.kind : '';
  dropNullTimes(copy);
  const meta = copy.metadata;
  // resourceVersion is the apiserver's concurrency token; `full` keeps it. generation stays: it is what
  // status.observedGeneration is compared with.
  if (isObj(meta)) delete meta.resourceVersion;
  if (kind === 'Pod') {
    slimPodSpec(copy.spec);
    slimPodStatus(copy.status);
  } else if (kind) {
    slimWorkloadSpec(kind, copy.spec);
  }
  if (isObj(copy.status)) {
    // Service status.loadBalancer is always serialised, empty unless a load balancer exists.
    dropEmpty(copy.status, 'loadBalancer');
  }
  dropEmpty(copy, 'status');
  return copy as T;
}
