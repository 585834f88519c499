// Renders docs/tools.md from the tools/list snapshot (worker/src/testdata/tools-list.json), so the
// reference a user reads is the catalog a client receives.

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  minimum?: number;
  maximum?: number;
}

export interface ToolEntry {
  name: string;
  title?: string;
  description?: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint?: boolean };
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' or ');
  const t = Array.isArray(s.type) ? s.type.join(' or ') : (s.type ?? 'any');
  if (t === 'array' && s.items) return `array of ${typeOf(s.items)}`;
  const range = s.minimum !== undefined || s.maximum !== undefined ? ` (${s.minimum ?? ''}..${s.maximum ?? ''})` : '';
  return t + range;
}

function kindOf(a: ToolEntry['annotations'], judgedPerCall: boolean): string {
  if (a?.readOnlyHint) return 'read-only';
  if (a?.destructiveHint && judgedPerCall) return 'writes, can destroy (listed in non-destructive mode, which refuses each destructive call)';
  if (a?.destructiveHint) return 'writes, destructive (hidden in non-destructive mode)';
  return 'writes (hidden in read-only mode)';
}

/**
 * `judgedPerCall`: tools marked destructive whose calls the worker judges one by one (ToolDef.destroys), which
 * tools/list cannot say.
 */
export function renderToolsDoc(tools: ToolEntry[], judgedPerCall: ReadonlySet<string> = new Set()): string {
  const out: string[] = [
    '# Worker tools',
    '',
    '<!-- Generated from worker/src/testdata/tools-list.json by test/src/worker/tools-doc.ts; a unit test fails when they differ. -->',
    '',
    `Every tool the worker serves (${tools.length}), as \`tools/list\` describes it to an MCP client. Each acts as the calling user: the cluster's RBAC decides what it may do. Invalid arguments come back as a tool result with \`isError: true\` naming the argument and the fix; an unknown tool name is a JSON-RPC error (-32602).`,
    '',
    '| Tool | Title | Kind |',
    '| --- | --- | --- |',
    ...tools.map((t) => `| [${t.name}](#${t.name}) | ${cell(t.title ?? '')} | ${kindOf(t.annotations, judgedPerCall.has(t.name))} |`),
    '',
  ];
  for (const t of tools) {
    out.push(`## ${t.name}`, '', `**${cell(t.title ?? t.name)}**: ${kindOf(t.annotations, judgedPerCall.has(t.name))}.`, '', t.description ?? '', '');
    const props = Object.entries(t.inputSchema.properties ?? {});
    const required = new Set(t.inputSchema.required ?? []);
    if (props.length) {
      out.push('| Argument | Type | Required | Default | Description |', '| --- | --- | --- | --- | --- |');
      for (const [name, s] of props) {
        out.push(`| \`${name}\` | ${cell(typeOf(s))} | ${required.has(name) ? 'yes' : 'no'} | ${s.default !== undefined ? `\`${cell(JSON.stringify(s.default))}\`` : ''} | ${cell(s.description ?? '')} |`);
      }
      out.push('');
    } else out.push('No arguments.', '');
    const outProps = Object.entries(t.outputSchema?.properties ?? {});
    if (outProps.length) {
      out.push(`Structured result (\`structuredContent\`): ${outProps.map(([k, s]) => `\`${k}\`${s.description ? ` (${cell(s.description)})` : ''}`).join(', ')}.`, '');
    }
  }
  return out.join('\n');
}
