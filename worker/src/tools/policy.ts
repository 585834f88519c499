import type { Policy } from '../config.js';
import { ToolRefusal } from '../k8s/errors.js';
import type { ToolDef } from './define.js';

/** Whether a tool exists at all under a policy: read-only drops writes, non-destructive drops destructive tools, then allow/deny. */
export function toolAllowed(tool: Pick<ToolDef, 'name' | 'annotations'>, policy: Policy): boolean {
  if (policy.readOnly && !tool.annotations.readOnlyHint) return false;
  if (policy.nonDestructive && tool.annotations.destructiveHint) return false;
  if (policy.tools.allow && !policy.tools.allow.includes(tool.name)) return false;
  return !policy.tools.deny.includes(tool.name);
}

/** Why a tool is refused on a cluster (the handler-side re-check), or undefined when it may run. */
export function toolRefusal(tool: Pick<ToolDef, 'name' | 'annotations'>, policy: Policy, cluster: string): string | undefined {
  if (policy.readOnly && !tool.annotations.readOnlyHint) return `cluster ${cluster} is read-only: ${tool.name} changes state`;
  if (policy.nonDestructive && tool.annotations.destructiveHint) return `cluster ${cluster} is non-destructive: ${tool.name} is destructive`;
  if (!toolAllowed(tool, policy)) return `tool ${tool.name} is not allowed on cluster ${cluster}`;
  return undefined;
}

function norm(kind: string): string {
  return kind.toLowerCase().replace(/\..*$/, '');
}

/** Kind allow/deny matches kinds or plural names, case-insensitively, without the group suffix. */
export function assertKindAllowed(kinds: readonly string[], names: readonly string[], policy: Policy, cluster: string): void {
  const candidates = new Set([...kinds, ...names].map(norm));
  const listed = (list: readonly string[]) => list.some((k) => candidates.has(norm(k)));
  if (listed(policy.kinds.deny)) throw new ToolRefusal(`kind ${kinds[0] ?? names[0]} is denied on cluster ${cluster}`);
  if (policy.kinds.allow && !listed(policy.kinds.allow)) throw new ToolRefusal(`kind ${kinds[0] ?? names[0]} is not in the allowed kinds of cluster ${cluster}`);
}
