import type { Principal } from '../auth/principal.js';
import { IdentityRefusedError } from './errors.js';

/** Kubernetes reserves `system:` (system:masters is cluster-admin; nodes and controllers carry control-plane rights). */
const RESERVED = /^system:/i;
// Header-safe, printable names only: Impersonate-User/-Group are HTTP header values.
const PRINTABLE = /^[\x21-\x7e\u00a0-\uffff][\x20-\x7e\u00a0-\uffff]*$/;

export interface ImpersonationNames {
  user: string;
  groups: string[];
  /** Groups left out because they would have been `system:` names. */
  dropped: string[];
}

/**
 * The Kubernetes user and groups an impersonation cluster gets for a principal: prefixed like a bearer-mode
 * apiserver's claim mappings, never a `system:` name. A reserved or unprintable user is refused; a reserved or
 * unprintable group is left out (fewer groups never grant more under RBAC), so one odd IdP group cannot lock a
 * user out. The worker refuses `system:` names too.
 */
export function impersonationNames(principal: Pick<Principal, 'username' | 'sub' | 'groups'>, cluster: { usernamePrefix: string; groupPrefix: string }): ImpersonationNames {
  const base = principal.username || principal.sub;
  const user = `${cluster.usernamePrefix}${base}`;
  if (!base || RESERVED.test(user) || !PRINTABLE.test(user)) {
    throw new IdentityRefusedError(`the user name ${JSON.stringify(user.slice(0, 80))} cannot be impersonated on this cluster`);
  }
  const groups: string[] = [];
  const dropped: string[] = [];
  for (const g of new Set(principal.groups)) {
    const name = `${cluster.groupPrefix}${g}`;
    (g && !RESERVED.test(name) && PRINTABLE.test(name) ? groups : dropped).push(name);
  }
  return { user, groups, dropped };
}
