/** Who a request acts as. Built per request at the HTTP edge (or once for stdio); never the worker's own identity. */
export type Identity =
  | { kind: 'bearer'; token: string }
  | { kind: 'impersonation'; user: string; groups: string[] }
  | { kind: 'kubeconfig' };

/** Short label for logs and cache keys that never contains a credential. */
export function identityLabel(identity: Identity): string {
  switch (identity.kind) {
    case 'bearer':
      return 'bearer';
    case 'impersonation':
      return `impersonation:${identity.user}`;
    case 'kubeconfig':
      return 'kubeconfig';
  }
}

/**
 * Kubernetes reserves `system:` for its own users and groups (system:masters is cluster-admin, system:nodes
 * and system:kube-controller-manager carry control-plane rights). No IdP name may become one; the gateway
 * prefixes names too, this is the worker's own check. Case-insensitive: no spelling is worth the doubt.
 */
export function reservedName(identity: { user: string; groups: readonly string[] }): string | undefined {
  return [identity.user, ...identity.groups].find((n) => n.toLowerCase().startsWith('system:'));
}
