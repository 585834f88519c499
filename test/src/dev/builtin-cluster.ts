// npm start's built-in cluster: the test stack's own etcd, kube-apiserver, kwok and metrics-server (built once from their Go
// modules into the shared cache), on free loopback ports under <repo>/.dev, seeded like the stack with
// namespaces, workloads, Services, Events and a Secret, plus one ClusterRoleBinding per dev user.
import type { Component } from '../stack/component.js';
import { etcd, ETCD_VERSION } from '../stack/components/etcd.js';
import { kubeApiserver, KUBE_VERSION } from '../stack/components/kube-apiserver.js';
import { kwok, KWOK_VERSION } from '../stack/components/kwok.js';
import { metricsServer, METRICS_SERVER_VERSION } from '../stack/components/metrics-server.js';
import { pki } from '../stack/components/pki.js';
import { clusterRoleBinding, NODES, SEED_SECRET_VALUE, seed, seedCluster } from '../stack/components/seed.js';
import type { DevUser } from './users.js';

export const BUILTIN_VERSIONS = `kube-apiserver ${KUBE_VERSION}, etcd ${ETCD_VERSION}, kwok ${KWOK_VERSION}, metrics-server ${METRICS_SERVER_VERSION}`;

/** `kmg-dev-<user>` binds each dev user's `clusterRole` to that user by name. */
export function devBindings(users: DevUser[]) {
  return users.filter((u) => u.clusterRole).map((u) => clusterRoleBinding(`kmg-${u.username}`, { kind: 'User', name: u.username }, u.clusterRole!));
}

function devSeed(users: DevUser[]): Component {
  return {
    name: 'seed',
    dependsOn: ['kube-apiserver', 'kwok'],
    async up(ctx) {
      await seedCluster(ctx, devBindings(users));
      return { SEED_SECRET_VALUE, KWOK_NODES: NODES.join(',') };
    },
    check: seed.check,
  };
}

/** In start order; the apiserver's admin kubeconfig (client certificate) ends up in KUBECONFIG_ADMIN. */
export function builtinClusterComponents(users: DevUser[]): Component[] {
  // metrics-server too, so pods_top and nodes_top answer (its build adds a few minutes to the first start only).
  return [pki, etcd, kubeApiserver, kwok, devSeed(users), metricsServer];
}
