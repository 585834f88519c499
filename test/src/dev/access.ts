// What a developer's own kubeconfig user may do for npm start: impersonate the dev users (then each dev user
// acts as itself), and what each dev user may then do there (so the banner can say how to grant it).
import { AuthorizationV1Api, KubeConfig } from '@kubernetes/client-node';
import type { DevUser } from './users.js';

export interface ClusterAccess {
  /** The kubeconfig user may impersonate users and groups: workers impersonate each dev user. */
  impersonate: boolean;
  /** Why not, when `impersonate` is false (a denial, or the error that kept the check from running). */
  detail?: string;
  /** Per dev user, whether the cluster lets it list pods cluster-wide (undefined: could not ask). */
  canListPods: Record<string, boolean | undefined>;
}

const TIMEOUT_MS = 10_000;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  return Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`${what}: no answer in ${TIMEOUT_MS / 1000}s`)), TIMEOUT_MS).unref())]);
}

function shortError(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  if (typeof e.code === 'number') return `HTTP ${e.code}`;
  return (e.message ?? String(err)).split('\n')[0]!.slice(0, 200);
}

export async function checkClusterAccess(file: string, context: string, users: DevUser[]): Promise<ClusterAccess> {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  kc.setCurrentContext(context);
  const api = kc.makeApiClient(AuthorizationV1Api);
  const canI = async (resource: string) => {
    const r = await withTimeout(
      api.createSelfSubjectAccessReview({
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'impersonate', resource } } },
      }),
      'SelfSubjectAccessReview',
    );
    return r.status?.allowed === true;
  };
  let impersonate: boolean;
  let detail: string | undefined;
  try {
    const [usersOk, groupsOk] = await Promise.all([canI('users'), canI('groups')]);
    impersonate = usersOk && groupsOk;
    if (!impersonate) detail = `it may not impersonate ${[!usersOk && 'users', !groupsOk && 'groups'].filter(Boolean).join(' or ')}`;
  } catch (err) {
    return { impersonate: false, detail: `could not ask the cluster (${shortError(err)})`, canListPods: {} };
  }
  const canListPods: Record<string, boolean | undefined> = {};
  if (impersonate) {
    await Promise.all(
      users.map(async (u) => {
        try {
          const r = await withTimeout(
            api.createSubjectAccessReview({
              body: {
                apiVersion: 'authorization.k8s.io/v1',
                kind: 'SubjectAccessReview',
                spec: { user: u.username, groups: [...u.groups, 'system:authenticated'], resourceAttributes: { verb: 'list', resource: 'pods' } },
              },
            }),
            'SubjectAccessReview',
          );
          canListPods[u.username] = r.status?.allowed === true;
        } catch {
          canListPods[u.username] = undefined; // this user may not create SubjectAccessReviews: nothing to tell
        }
      }),
    );
  }
  return { impersonate, ...(detail ? { detail } : {}), canListPods };
}
