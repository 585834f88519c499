import { describe, expect, it } from 'vitest';
import { banner, type BannerInput } from './banner.js';
import type { DevUser } from './users.js';

const users: DevUser[] = [
  { username: 'dev-admin', password: 'dev-admin', groups: ['kmg:dev-admins'], clusterRole: 'cluster-admin' },
  { username: 'dev-viewer', password: 'dev-viewer', groups: ['kmg:dev-viewers'], clusterRole: 'view' },
];
const own = { kind: 'kubeconfig', file: '/home/u/.kube/config', source: '~/.kube/config', context: 'kind-dev', server: 'https://127.0.0.1:6443', user: 'kind-dev' } as const;
const base: Omit<BannerInput, 'choice' | 'access'> = {
  mcpUrl: 'http://127.0.0.1:8080/mcp',
  startedInSeconds: 3.2,
  server: 'https://127.0.0.1:6443',
  users,
  usersFile: 'test/dev/users.yaml',
  logsDir: '.dev/logs',
};

describe('npm start banner', () => {
  it('names the built-in cluster, why it is served, how to serve your own, and each user\'s role', () => {
    const text = banner({ ...base, choice: { kind: 'builtin', reason: 'no kubeconfig (KUBECONFIG is unset and /h/.kube/config does not exist)' }, builtin: { versions: 'kube-apiserver v1.34.4', adminKubeconfig: '/r/.dev/admin.kubeconfig' } });
    expect(text).toContain('MCP URL:   http://127.0.0.1:8080/mcp');
    expect(text).toContain('built-in local cluster at https://127.0.0.1:6443 (kube-apiserver v1.34.4)');
    expect(text).toContain('KUBECONFIG=/path/to/kubeconfig npm start');
    expect(text).toContain('KUBECONFIG=/r/.dev/admin.kubeconfig kubectl get pods -A');
    expect(text).toContain('dev-admin: ClusterRole cluster-admin, dev-viewer: ClusterRole view');
  });

  it('on your own cluster where the kubeconfig user may impersonate, prints the grant for each user without rights', () => {
    const text = banner({ ...base, choice: own, access: { impersonate: true, canListPods: { 'dev-admin': true, 'dev-viewer': false } } });
    expect(text).toContain("each dev user acts as itself: workers impersonate it with kubeconfig user kind-dev's credentials");
    expect(text).toContain('dev-viewer has no rights here yet; to grant view: kubectl create clusterrolebinding kmg-dev-viewer --clusterrole=view --user=dev-viewer');
    expect(text).not.toContain('dev-admin has no rights');
    expect(text).toContain('KMG_DEV_CLUSTER=builtin npm start');
  });

  it('says that every dev user acts as the kubeconfig user when it may not impersonate', () => {
    const text = banner({ ...base, choice: own, access: { impersonate: false, detail: 'it may not impersonate users', canListPods: {} } });
    expect(text).toContain('kubeconfig user kind-dev cannot impersonate (it may not impersonate users),');
    expect(text).toContain('so EVERY dev user acts as kind-dev');
    expect(text).not.toContain('acts as itself');
  });
});
