import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { resourcePath } from '../../k8s/discovery.js';
import { KubeApiError, ToolRefusal } from '../../k8s/errors.js';
import { slimObject } from '../../output/format.js';
import { clusterArg, dryRunArg, namespaceArg } from '../args.js';
import { defineTool, WRITE } from '../define.js';
import { namespaceFor, resolveResource, type KubeObject } from './common.js';
import { fieldManagerFor, SHARED_FIELD_MANAGER } from './field-manager.js';

/** The shared field manager (resources_patch still writes as it); apply and rollout write as the user's own, see field-manager.ts. */
export const FIELD_MANAGER = SHARED_FIELD_MANAGER;

export function parseManifest(manifest: string): KubeObject[] {
  const docs = parseAllDocuments(manifest);
  const objs: KubeObject[] = [];
  for (const d of docs) {
    if (d.errors.length) throw new ToolRefusal(`manifest is not valid YAML/JSON: ${d.errors[0]!.message}`);
    const js = d.toJS() as unknown;
    if (js === null || js === undefined) continue;
    if (typeof js !== 'object' || Array.isArray(js)) throw new ToolRefusal('each manifest document must be an object');
    const o = js as KubeObject;
    if (o.kind?.endsWith('List') && Array.isArray(o.items)) objs.push(...(o.items as KubeObject[]));
    else objs.push(o);
  }
  if (!objs.length) throw new ToolRefusal('manifest has no objects');
  for (const o of objs) {
    if (!o.apiVersion || !o.kind || !o.metadata?.name) throw new ToolRefusal('every object needs apiVersion, kind and metadata.name');
  }
  return objs;
}

/** Says which document failed, what was applied before it, and turns the apiserver's schema error into the fix. */
function documentFailure(err: unknown, i: number, objs: KubeObject[], applied: string[]): unknown {
  if (!(err instanceof KubeApiError) && !(err instanceof ToolRefusal)) return err;
  const o = objs[i]!;
  const which = objs.length > 1 ? `document ${i + 1} of ${objs.length} (${o.kind}/${o.metadata?.name})` : `${o.kind}/${o.metadata?.name}`;
  let why = err instanceof KubeApiError ? err.toToolText() : err.message;
  const undeclared = /(\.[\w.[\]"-]+): field not declared in schema/.exec(why);
  if (undeclared) why = `Invalid: the field ${undeclared[1]} is not in the ${o.kind} schema (misspelled, or at the wrong level); fix the manifest and apply again`;
  const before = applied.length ? ` Applied before it: ${applied.join('; ')}.` : '';
  return new ToolRefusal(`${which} failed: ${why}.${before}${i + 1 < objs.length ? ` The ${objs.length - i - 1} after it were not applied.` : ''}`);
}

export const resourcesCreateOrUpdate = defineTool({
  name: 'resources_create_or_update',
  title: 'Resources: Create or Update',
  description:
    'Create or update objects from a YAML or JSON manifest (several documents allowed) with server-side apply: the manifest is your whole intent for the fields you manage, so a field you applied before and now leave out is removed, while fields other managers set stay. Each user applies as their own field manager ("kube-mcp/<user>"). Unknown or misspelled fields are refused (fieldValidation Strict) instead of dropped silently. Use dryRun to validate first. The result shows each object as stored, Secrets masked, and any apiserver warnings (Pod Security, deprecations).',
  input: z.object({
    cluster: clusterArg,
    manifest: z.string().min(1).describe('YAML or JSON of one or more objects, each with apiVersion, kind and metadata.name.'),
    namespace: namespaceArg.describe('Namespace for namespaced objects that do not set metadata.namespace (default "default").'),
    force: z.boolean().default(true).describe('Take ownership of fields another manager set (server-side apply force). Default true.'),
    fieldValidation: z
      .enum(['Strict', 'Warn', 'Ignore'])
      .default('Strict')
      .describe('Unknown or duplicate fields: "Strict" (default) refuses the object, "Warn" applies and reports them as warnings, "Ignore" drops them silently.'),
    dryRun: dryRunArg,
  }),
  annotations: WRITE,
  kinds: (a) => {
    try {
      return parseManifest(a.manifest).map((o) => o.kind!);
    } catch {
      return [];
    }
  },
  async run(a, ctx) {
    const objs = parseManifest(a.manifest);
    const rest = ctx.clients().rest;
    const fieldManager = await fieldManagerFor(ctx);
    const results: unknown[] = [];
    const lines: string[] = [];
    for (const [i, o] of objs.entries()) {
      let stored: KubeObject;
      let r: Awaited<ReturnType<typeof resolveResource>>;
      let ns: string | undefined;
      try {
        r = await resolveResource(ctx, o.kind!, o.apiVersion);
        ns = namespaceFor(r, o.metadata?.namespace ?? a.namespace);
        const body = r.namespaced ? { ...o, metadata: { ...o.metadata, namespace: ns } } : o;
        stored = await rest.json<KubeObject>('PATCH', resourcePath(r, ns, o.metadata!.name), {
          body,
          contentType: 'application/apply-patch+yaml',
          query: { fieldManager, force: a.force, fieldValidation: a.fieldValidation, dryRun: a.dryRun ? 'All' : undefined },
          signal: ctx.signal,
        });
      } catch (err) {
        throw documentFailure(err, i, objs, lines);
      }
      lines.push(`${r.kind.toLowerCase()}/${o.metadata!.name}${ns ? ` in ${ns}` : ''} applied${a.dryRun ? ' (dry run, nothing persisted)' : ''}`);
      results.push(slimObject({ apiVersion: o.apiVersion, kind: o.kind, ...stored }, 'normal'));
    }
    return { text: lines.join('\n') + '\n---\n', data: results.length === 1 ? results[0] : results };
  },
});
