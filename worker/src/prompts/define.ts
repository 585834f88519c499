import { z } from 'zod';

/** One argument of a prompt, as prompts/list shows it. Values are strings (MCP prompts/get). */
export interface PromptArgumentDef {
  readonly name: string;
  readonly description: string;
  readonly required: boolean;
  /** Checks the value before it is written into the prompt text. */
  readonly schema: z.ZodType<string>;
}

/** A step of a workflow: which tool to call with which arguments, and what to look for. */
export interface PromptStep {
  readonly tool: string;
  readonly args?: Readonly<Record<string, unknown>>;
  readonly why: string;
}

/**
 * A workflow prompt: the tools to call in order, then how to answer. Steps whose tool the caller is not offered
 * (read-only or non-destructive clusters, allow/deny lists) are left out of the text, and the prompt says so.
 */
export interface PromptDef {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly arguments: readonly PromptArgumentDef[];
  /** Every tool the workflow may name, in order (a unit test checks they exist). */
  readonly tools: readonly string[];
  render(args: Readonly<Record<string, string>>): { task: string; steps: PromptStep[]; answer: string };
}

const DNS = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
export const nameArg = z.string().min(1).max(253).regex(DNS, 'must be a Kubernetes object name (lowercase letters, digits, "-" and ".")');
export const namespaceArg = z.string().min(1).max(63).regex(DNS, 'must be a namespace name (lowercase letters, digits and "-")');
export const clusterArg = z.string().min(1).max(253).regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'must be a cluster name from clusters_list');
export const kindArg = (kinds: readonly string[]) =>
  z.string().refine((k) => kinds.some((x) => x.toLowerCase() === k.toLowerCase()), `must be one of ${kinds.join(', ')}`);
export const sinceArg = z.string().regex(/^\d+[smhd]$/, 'must be a duration like "30m", "2h" or "1d"');

export const clusterArgument: PromptArgumentDef = {
  name: 'cluster',
  description: 'Cluster name from clusters_list. Omit to use the default cluster.',
  required: false,
  schema: clusterArg,
};

/** Tool arguments for a step: the given ones, without the empty ones, plus the cluster when one was named. */
export function callArgs(args: Readonly<Record<string, string>>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== '') out[k] = v;
  if (args.cluster) out.cluster = args.cluster;
  return out;
}
