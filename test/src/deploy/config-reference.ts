// Generates the configuration reference tables in docs/configuration.md from the zod schemas themselves, so
// the docs cannot drift from the code: `node test/dist/deploy/config-reference.js --write` rewrites the
// tables between the file's config-reference markers; config-reference.unit.test.ts fails when they differ.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { repoRoot } from '../stack/env.js';

interface JsonSchema {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
}

export interface ReferenceRow {
  key: string;
  type: string;
  required: boolean;
  default?: string;
  description?: string;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function resolve(node: JsonSchema, root: JsonSchema): JsonSchema {
  let n = node;
  for (let i = 0; n.$ref && i < 10; i++) {
    const name = n.$ref.replace(/^#\/\$defs\//, '');
    n = { ...root.$defs?.[name], ...(n.default !== undefined ? { default: n.default } : {}), ...(n.description ? { description: n.description } : {}) };
  }
  return n;
}

function variants(node: JsonSchema): JsonSchema[] | undefined {
  return node.anyOf ?? node.oneOf;
}

function typeOf(node: JsonSchema, root: JsonSchema): string {
  const n = resolve(node, root);
  const alts = variants(n);
  if (alts) return [...new Set(alts.map((a) => typeOf(a, root)))].join(' \\| ');
  if (n.const !== undefined) return JSON.stringify(n.const);
  if (n.enum) return n.enum.map((e) => JSON.stringify(e)).join(' \\| ');
  const t = Array.isArray(n.type) ? n.type.join(' \\| ') : n.type;
  if (t === 'array') {
    const item = n.items ? typeOf(n.items, root) : 'any';
    return item.includes(' \\| ') ? `(${item})[]` : `${item}[]`;
  }
  if (t === 'string' && n.format === 'uri') return 'URL';
  if (t === 'integer' || t === 'number') {
    const lo = n.minimum ?? (n.exclusiveMinimum !== undefined ? `>${n.exclusiveMinimum}` : undefined);
    const hi = n.maximum !== undefined && n.maximum < MAX_SAFE ? n.maximum : undefined;
    return lo !== undefined || hi !== undefined ? `${t} (${lo ?? ''}…${hi ?? ''})` : t;
  }
  if (t === 'object' && n.additionalProperties && typeof n.additionalProperties === 'object' && !n.properties) return `map of ${typeOf(n.additionalProperties, root)}`;
  return t ?? 'any';
}

function objectVariants(node: JsonSchema, root: JsonSchema): JsonSchema[] {
  const n = resolve(node, root);
  if (n.properties) return [n];
  const alts = variants(n);
  if (alts) return alts.flatMap((a) => objectVariants(a, root));
  if (n.items) return [];
  return [];
}

function walk(node: JsonSchema, root: JsonSchema, prefix: string, rows: Map<string, ReferenceRow>): void {
  for (const obj of objectVariants(node, root)) {
    for (const [key, rawChild] of Object.entries(obj.properties ?? {})) {
      const child = resolve(rawChild, root);
      const pathKey = `${prefix}${key}`;
      const row: ReferenceRow = { key: pathKey, type: typeOf(child, root), required: (obj.required ?? []).includes(key) && child.default === undefined };
      const def = child.default;
      if (def !== undefined && !(typeof def === 'object' && def !== null && !Array.isArray(def) && Object.keys(def).length === 0)) row.default = JSON.stringify(def);
      if (child.description) row.description = child.description;
      const seen = rows.get(pathKey);
      if (seen) {
        // A key present in several variants (a discriminated union): list every allowed value.
        if (!seen.type.split(' \\| ').includes(row.type)) seen.type = `${seen.type} \\| ${row.type}`;
        seen.required &&= row.required;
      } else rows.set(pathKey, row);
      walk(child, root, `${pathKey}.`, rows);
      const items = child.items ? resolve(child.items, root) : undefined;
      if (items) walk(items, root, `${pathKey}[].`, rows);
      for (const alt of variants(child) ?? []) {
        const r = resolve(alt, root);
        if (r.items) walk(resolve(r.items, root), root, `${pathKey}[].`, rows);
      }
    }
  }
}

/** Every key of a zod schema as the config file spells it, with type, default and description. */
export function referenceRows(schema: z.ZodType): ReferenceRow[] {
  const root = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows = new Map<string, ReferenceRow>();
  walk(root, root, '', rows);
  return [...rows.values()];
}

const cell = (s: string | undefined): string => (s ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function referenceTable(schema: z.ZodType): string {
  const lines = ['| key | type | default | notes |', '| --- | --- | --- | --- |'];
  for (const r of referenceRows(schema)) {
    lines.push(`| \`${r.key}\` | ${r.type} | ${r.default ? `\`${cell(r.default)}\`` : r.required ? '**required**' : ''} | ${cell(r.description)} |`);
  }
  return lines.join('\n');
}

export const REFERENCE_FILE = path.join(repoRoot, 'docs', 'configuration.md');
const START = (name: string) => `<!-- config-reference:${name} (generated by test/src/deploy/config-reference.ts; do not edit) -->`;
const END = (name: string) => `<!-- /config-reference:${name} -->`;

/** The gateway's and the worker's reference tables, from their schemas. */
export async function generatedReferences(): Promise<Record<'gateway' | 'worker', string>> {
  const { configSchema } = await import('@kmg/gateway');
  const { workerConfigSchema } = await import('@kmg/worker/config');
  return { gateway: referenceTable(configSchema), worker: referenceTable(workerConfigSchema) };
}

/** The table currently in the document for `name`, or undefined when its markers are missing. */
export function currentReference(readme: string, name: string): string | undefined {
  const start = readme.indexOf(START(name));
  const end = readme.indexOf(END(name));
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + START(name).length, end).trim();
}

export function withReference(readme: string, name: string, table: string): string {
  const start = readme.indexOf(START(name));
  const end = readme.indexOf(END(name));
  if (start < 0 || end < start) throw new Error(`${REFERENCE_FILE} has no ${START(name)} … ${END(name)} markers`);
  return `${readme.slice(0, start + START(name).length)}\n${table}\n${readme.slice(end)}`;
}

export function markers(name: string): string {
  return `${START(name)}\n${END(name)}`;
}

async function main(): Promise<void> {
  const refs = await generatedReferences();
  if (process.argv.includes('--write')) {
    let doc = readFileSync(REFERENCE_FILE, 'utf8');
    for (const [name, table] of Object.entries(refs)) doc = withReference(doc, name, table);
    writeFileSync(REFERENCE_FILE, doc);
    console.log(`updated the configuration reference in ${REFERENCE_FILE}`);
  } else {
    for (const [name, table] of Object.entries(refs)) console.log(`## ${name}\n\n${table}\n`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) void main();
