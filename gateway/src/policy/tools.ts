import type { Principal } from '../auth/principal.js';
import type { PolicyConfig } from '../config/mcp.js';

/** The part of a tools/list entry policy reads. */
export interface ToolInfo {
  name: string;
  annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean } | undefined;
}

/** A tool is a read tool only when its annotations say so; anything else (or unknown) counts as write. */
export function isReadTool(tool: ToolInfo | undefined): boolean {
  return tool?.annotations?.readOnlyHint === true;
}

export type ToolDecision =
  | { allowed: true }
  /** The org does not offer this tool (deny list, allow list, read-only org). */
  | { allowed: false; reason: 'not_offered'; message: string }
  /** The token lacks a scope the tool needs: 403 insufficient_scope naming it. */
  | { allowed: false; reason: 'insufficient_scope'; scope: string; message: string };

/** One decision used both to filter tools/list and to admit tools/call, so the two never disagree. */
export function decideTool(name: string, tool: ToolInfo | undefined, principal: Principal, policy: PolicyConfig): ToolDecision {
  if (policy.denyTools.includes(name)) return { allowed: false, reason: 'not_offered', message: `tool ${name} is denied by this organisation's policy` };
  if (policy.allowTools.length && !policy.allowTools.includes(name)) {
    return { allowed: false, reason: 'not_offered', message: `tool ${name} is not on this organisation's allow list` };
  }
  const read = isReadTool(tool);
  if (!read && policy.readOnly) return { allowed: false, reason: 'not_offered', message: `tool ${name} changes the cluster and this organisation is read-only` };
  const needed = [read ? policy.readScope : policy.writeScope];
  const extra = policy.toolScopes[name];
  if (extra) needed.push(extra);
  for (const scope of needed) {
    if (!principal.scopes.includes(scope)) {
      return { allowed: false, reason: 'insufficient_scope', scope, message: `tool ${name} needs scope ${scope}` };
    }
  }
  return { allowed: true };
}

/** Keeps the tools this principal may call. */
export function filterTools<T extends ToolInfo>(tools: T[], principal: Principal, policy: PolicyConfig): T[] {
  return tools.filter((t) => decideTool(t.name, t, principal, policy).allowed);
}
