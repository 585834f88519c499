// Real object shapes for the `normal`-view fidelity suite: each is created as admin on the stack's
// apiserver and read back through resources_get in `normal` and `full`.
export const SHAPES_NS = 'kmg-tools-shapes';

export interface Shape {
  /** File name of the golden rendering. */
  id: string;
  kind: string;
  apiVersion: string;
  name: string;
  /** Collection path to POST to. */
  path: string;
  body: Record<string, unknown>;
  namespaced: boolean;
}

const ns = SHAPES_NS;
const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: ns, ...extra });
const podSpec = (name: string) => ({ containers: [{ name, image: 'registry.invalid/app:1' }] });
const template = (app: string) => ({ metadata: { labels: { app } }, spec: podSpec(app) });

function shape(id: string, apiVersion: string, kind: string, plural: string, body: Record<string, unknown>, namespaced = true): Shape {
  const group = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const name = (body.metadata as { name: string }).name;
  return { id, kind, apiVersion, name, namespaced, path: `${group}${namespaced ? `/namespaces/${ns}` : ''}/${plural}`, body: { apiVersion, kind, ...body } };
}

export function shapes(nodeName: string): Shape[] {
  return [
    shape('networkpolicy-allow-all', 'networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies', {
      metadata: meta('allow-all'),
      spec: { podSelector: {}, ingress: [{}], egress: [{ to: [{ namespaceSelector: {} }] }], policyTypes: ['Ingress', 'Egress'] },
    }),
    shape('networkpolicy-deny-all', 'networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies', { metadata: meta('deny-all'), spec: { podSelector: {}, policyTypes: ['Ingress'] } }),
    shape('networkpolicy-from-namespaces', 'networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies', {
      metadata: meta('from-namespaces'),
      spec: { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ namespaceSelector: {} }, { podSelector: { matchLabels: { role: 'api' } } }], ports: [{ port: 5432 }] }] },
    }),
    shape('pod-emptydir-args', 'v1', 'Pod', 'pods', {
      metadata: meta('emptydir-args', { labels: { app: 'shapes', empty: '' } }),
      spec: {
        nodeName,
        containers: [{ name: 'app', image: 'registry.invalid/app:1', args: ['--flag=', ''], env: [{ name: 'EMPTY', value: '' }, { name: 'SET', value: 'x' }], volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] }],
        volumes: [{ name: 'scratch', emptyDir: {} }],
      },
    }),
    shape('pod-probes-resources', 'v1', 'Pod', 'pods', {
      metadata: meta('probes'),
      spec: {
        nodeName,
        securityContext: { runAsNonRoot: true },
        containers: [{ name: 'web', image: 'registry.invalid/web:latest', imagePullPolicy: 'IfNotPresent', ports: [{ containerPort: 8080, protocol: 'UDP' }], resources: { requests: { cpu: '100m' }, limits: { memory: '64Mi' } }, readinessProbe: { httpGet: { path: '/healthz', port: 8080 } } }],
        tolerations: [{ key: 'dedicated', operator: 'Exists' }],
      },
    }),
    shape('deployment', 'apps/v1', 'Deployment', 'deployments', { metadata: meta('web'), spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template('web') } }),
    shape('deployment-recreate', 'apps/v1', 'Deployment', 'deployments', { metadata: meta('recreate'), spec: { replicas: 0, strategy: { type: 'Recreate' }, selector: { matchLabels: { app: 'recreate' } }, template: template('recreate') } }),
    shape('statefulset', 'apps/v1', 'StatefulSet', 'statefulsets', { metadata: meta('db'), spec: { serviceName: 'db', replicas: 1, selector: { matchLabels: { app: 'db' } }, template: template('db') } }),
    shape('daemonset', 'apps/v1', 'DaemonSet', 'daemonsets', { metadata: meta('agent'), spec: { selector: { matchLabels: { app: 'agent' } }, template: template('agent') } }),
    shape('job', 'batch/v1', 'Job', 'jobs', { metadata: meta('migrate'), spec: { backoffLimit: 1, template: { spec: { ...podSpec('migrate'), restartPolicy: 'Never' } } } }),
    shape('cronjob', 'batch/v1', 'CronJob', 'cronjobs', { metadata: meta('nightly'), spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: { spec: { ...podSpec('nightly'), restartPolicy: 'OnFailure' } } } } } }),
    shape('service-clusterip', 'v1', 'Service', 'services', { metadata: meta('web'), spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }),
    shape('service-headless', 'v1', 'Service', 'services', { metadata: meta('db'), spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] } }),
    shape('configmap-empty-values', 'v1', 'ConfigMap', 'configmaps', { metadata: meta('flags'), data: { enabled: 'true', empty: '' } }),
    shape('secret', 'v1', 'Secret', 'secrets', { metadata: meta('creds'), type: 'Opaque', data: { password: Buffer.from('shape-secret-value').toString('base64') } }),
    shape('serviceaccount', 'v1', 'ServiceAccount', 'serviceaccounts', { metadata: meta('runner'), automountServiceAccountToken: false }),
    shape('role', 'rbac.authorization.k8s.io/v1', 'Role', 'roles', { metadata: meta('reader'), rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }, { apiGroups: [''], resources: ['configmaps'], resourceNames: [''], verbs: ['get'] }] }),
    shape('rolebinding', 'rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings', { metadata: meta('reader'), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' }, subjects: [{ kind: 'ServiceAccount', name: 'runner', namespace: ns }] }),
    shape('pvc', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', { metadata: meta('data'), spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }),
    shape('pdb-selector-all', 'policy/v1', 'PodDisruptionBudget', 'poddisruptionbudgets', { metadata: meta('all'), spec: { minAvailable: 1, selector: {} } }),
    shape('hpa', 'autoscaling/v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', {
      metadata: meta('web'),
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }] },
    }),
    shape('resourcequota', 'v1', 'ResourceQuota', 'resourcequotas', { metadata: meta('quota'), spec: { hard: { pods: '10', 'requests.cpu': '4' } } }),
    shape('limitrange', 'v1', 'LimitRange', 'limitranges', { metadata: meta('defaults'), spec: { limits: [{ type: 'Container', default: { cpu: '500m' }, defaultRequest: { cpu: '100m' } }] } }),
    shape('ingress', 'networking.k8s.io/v1', 'Ingress', 'ingresses', {
      metadata: meta('web'),
      spec: { rules: [{ host: 'web.example.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    }),
    shape('lease', 'coordination.k8s.io/v1', 'Lease', 'leases', { metadata: meta('leader'), spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } }),
  ];
}
