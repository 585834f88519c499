import { ProtocolError, ProtocolErrorCode, type GetPromptResult, type Prompt } from '@modelcontextprotocol/server';
import { clusterHealthCheck } from './cluster-health-check.js';
import type { PromptDef } from './define.js';
import { diagnoseWorkload } from './diagnose-workload.js';
import { reviewRollout } from './review-rollout.js';

/** The workflow prompts, in the order prompts/list shows them. */
export const ALL_PROMPTS: readonly PromptDef[] = [clusterHealthCheck, diagnoseWorkload, reviewRollout];

export function promptDefinition(p: PromptDef): Prompt {
  return {
    name: p.name,
    title: p.title,
    description: p.description,
    arguments: p.arguments.map((a) => ({ name: a.name, description: a.description, required: a.required })),
  };
}

/**
 * prompts/get: checks the arguments (an unknown prompt, a missing or malformed argument is JSON-RPC -32602, as MCP
 * specifies for prompts) and renders the workflow with only the tools `offered` to this caller.
 */
export function getPrompt(name: string, given: Record<string, string> | undefined, offered: ReadonlySet<string>): GetPromptResult {
  const prompt = ALL_PROMPTS.find((p) => p.name === name);
  if (!prompt) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${name}; prompts are: ${ALL_PROMPTS.map((p) => p.name).join(', ')}`);
  const args: Record<string, string> = {};
  const problems: string[] = [];
  for (const a of prompt.arguments) {
    const v = given?.[a.name];
    if (v === undefined || v === '') {
      if (a.required) problems.push(`${a.name}: required (${a.description})`);
      continue;
    }
    const ok = a.schema.safeParse(v);
    if (ok.success) args[a.name] = ok.data;
    else problems.push(`${a.name}: ${ok.error.issues[0]?.message ?? 'invalid'} (${a.description})`);
  }
  const unknown = Object.keys(given ?? {}).filter((k) => !prompt.arguments.some((a) => a.name === k));
  if (unknown.length) problems.push(`unknown argument(s) ${unknown.join(', ')}; ${prompt.name} takes ${prompt.arguments.map((a) => a.name).join(', ')}`);
  if (problems.length) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid arguments for prompt ${prompt.name}: ${problems.join('; ')}`);
  return { description: prompt.description, messages: [{ role: 'user', content: { type: 'text', text: renderText(prompt, args, offered) } }] };
}

function renderText(prompt: PromptDef, args: Readonly<Record<string, string>>, offered: ReadonlySet<string>): string {
  const { task, steps, answer } = prompt.render(args);
  const usable = steps.filter((s) => offered.has(s.tool));
  const missing = [...new Set(steps.filter((s) => !offered.has(s.tool)).map((s) => s.tool))];
  const lines = [task, '', 'Call these tools in this order, and stop calling tools as soon as you can answer (<…> = fill in from the previous results):'];
  usable.forEach((s, i) => lines.push(`${i + 1}. ${s.tool} ${JSON.stringify(s.args ?? {})}: ${s.why}`));
  if (missing.length) lines.push('', `Not offered to you on this server (policy): ${missing.join(', ')}. Where a step needed it, say what you would have checked or done instead.`);
  lines.push('', answer);
  return lines.join('\n');
}
