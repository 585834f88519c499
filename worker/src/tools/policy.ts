import type { Policy } from '../config.js';
import { ToolRefusal } from '../k8s/errors.js';
import type { ToolContext, ToolDef } from './define.js';

type PolicyTool = Pick<ToolDef, 'name' | 'annotations' | 'destroys'>;

/** Always destructive: marked so, with no per-call judgement (a delete, an exec). */
function alwaysDestructive(tool: PolicyTool): boolean {
  return tool.annotations.destructiveHint && !tool.destroys;
}

/**
 * Whether a tool exists at all under a policy: read-only drops writes, non-destructive drops tools that always
 * destroy (those that destroy only with some arguments stay, see destructionRefusal), then allow/deny.
 */
export function toolAllowed(tool: PolicyTool, policy: Policy): boolean {
  if (policy.readOnly && !tool.annotations.readOnlyHint) return false;
  if (policy.nonDestructive && alwaysDestructive(tool)) return false;
  if (policy.tools.allow && !policy.tools.allow.includes(tool.name)) return false;
  return !policy.tools.deny.includes(tool.name);
}

/** Why a tool is refused on a cluster (the handler-side re-check), or undefined when it may run. */
export function toolRefusal(tool: PolicyTool, policy: Policy, cluster: string): string | undefined {
  if (policy.readOnly && !tool.annotations.readOnlyHint) return `cluster ${cluster} is read-only: ${tool.name} changes state`;
  if (policy.nonDestructive && alwaysDestructive(tool)) return `cluster ${cluster} is non-destructive: ${tool.name} is destructive`;
  if (!toolAllowed(tool, policy)) return `tool ${tool.name} is not allowed on cluster ${cluster}`;
  return undefined;
}

/**
 * The handler's per-call re-check in non-destructive mode for tools that destroy only with some arguments: the
 * listing cannot hide a scale to 0 or a patch that removes fields, so the call itself is judged before it runs.
 */
export async function destructionRefusal(tool: PolicyTool, args: Record<string, unknown>, ctx: ToolContext): Promise<string | undefined> {
  if (!ctx.policy.nonDestructive || !tool.annotations.destructiveHint || !tool.destroys) return undefined;
  const why = await tool.destroys(args, ctx);
  return why ? `cluster ${ctx.cluster.name} is non-destructive: this ${tool.name} call ${why}. Nothing was changed` : undefined;
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
