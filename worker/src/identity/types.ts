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
