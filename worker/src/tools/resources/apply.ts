import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { resourcePath, type ApiResource } from '../../k8s/discovery.js';
import { KubeApiError, ToolRefusal } from '../../k8s/errors.js';
import { slimObject } from '../../output/format.js';
import { clusterArg, dryRunArg, namespaceArg } from '../args.js';
import { defineTool, WRITE_MAY_DESTROY, type ToolContext } from '../define.js';
import { explainConflict, secretDataConflict } from './apply-conflict.js';
import { waitApplied, waitLine, type WaitOutcome } from './apply-wait.js';
import { namespaceFor, resolveResource, type KubeObject } from './common.js';
import { fieldManagerFor, SHARED_FIELD_MANAGER } from './field-manager.js';
import { destructiveChanges, diffLines, diffObjects } from './object-diff.js';
import { isCoreSecret } from './secret-patch.js';

/** The shared field manager (resources_patch still writes as it); apply and rollout write as the user's own, see field-manager.ts. */
export const FIELD_MANAGER = SHARED_FIELD_MANAGER;

/** The parser's complaint told as the fix; runaway nesting and alias expansion are named, not echoed as engine errors. */
function unparseable(message: string): string {
  if (/alias/i.test(message)) return 'it expands YAML aliases (*name) far beyond any real manifest; write the objects out without aliases';
  if (/call stack/i.test(message)) return 'it is nested too deeply; a Kubernetes object is at most a few dozen levels deep';
  return message;
}

export function parseManifest(manifest: string): KubeObject[] {
  const docs = parseAllDocuments(manifest);
  const objs: KubeObject[] = [];
  for (const [i, d] of docs.entries()) {
    if (d.errors.length) throw new ToolRefusal(`manifest is not valid YAML/JSON: ${unparseable(d.errors[0]!.message)}`);
    let js: unknown;
    try {
      js = d.toJS();
    } catch (err) {
      // The parser refuses alias expansion past a resource bound (a "billion laughs" document) here, not in errors.
      throw new ToolRefusal(`manifest document ${i + 1} cannot be read: ${unparseable((err as Error).message)}`);
    }
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

const applyInput = z.object({
  cluster: clusterArg,
  manifest: z.string().min(1).describe('YAML or JSON of one or more objects, each with apiVersion, kind and metadata.name.'),
  namespace: namespaceArg.describe('Namespace for namespaced objects that do not set metadata.namespace (default "default").'),
  force: z
    .boolean()
    .default(false)
    .describe('Take ownership of fields another field manager set (server-side apply force). Default false: such a conflict is refused and the result names the managers and fields; set true only when your values should win.'),
  fieldValidation: z
    .enum(['Strict', 'Warn', 'Ignore'])
    .default('Strict')
    .describe('Unknown or duplicate fields: "Strict" (default) refuses the object, "Warn" applies and reports them as warnings, "Ignore" drops them silently.'),
  diff: z
    .boolean()
    .default(false)
    .describe('If true, apply nothing: show, per object, what would change (the live object against a server-side dry run of this manifest, field by field; Secret values masked and never compared, so a guess cannot be confirmed). Conflicts show here too.'),
  wait: z
    .number()
    .int()
    .min(0)
    .max(120)
    .default(0)
    .describe('Seconds (0-120, default 0 = do not wait) to wait after applying until each workload is rolled out, each Pod Ready, each Job complete, or each object with a Ready condition Ready. The result says what was waited for and each outcome, also when time ran out.'),
  dryRun: dryRunArg,
});
type ApplyArgs = z.infer<typeof applyInput>;

const OUTCOMES = ['created', 'configured', 'would be created', 'would be configured', 'diff', 'failed'] as const;

const applyOutput = z.object({
  documents: z.array(
    z.object({
      index: z.number().int().describe('1-based position of the object in the manifest.'),
      kind: z.string(),
      name: z.string(),
      namespace: z.string().optional(),
      outcome: z.enum(OUTCOMES),
      error: z.string().optional().describe('Why this object failed (outcome "failed").'),
      changes: z.number().int().optional().describe('diff: fields that would change.'),
      wait: z
        .object({ waitFor: z.string().optional().describe('Absent: nothing to wait for on this kind.'), done: z.boolean(), failed: z.boolean(), message: z.string(), waitedSeconds: z.number().int() })
        .optional(),
    }),
  ),
  failed: z.number().int().describe('How many objects failed; the others ran (every object is attempted, in order).'),
});
type DocResult = z.infer<typeof applyOutput>['documents'][number];

interface Target {
  r: ApiResource;
  ns: string | undefined;
  path: string;
  body: KubeObject;
}

async function target(ctx: ToolContext, o: KubeObject, namespace: string | undefined): Promise<Target> {
  const r = await resolveResource(ctx, o.kind!, o.apiVersion);
  const ns = namespaceFor(r, o.metadata?.namespace ?? namespace);
  const body = r.namespaced ? { ...o, metadata: { ...o.metadata, namespace: ns } } : o;
  return { r, ns, path: resourcePath(r, ns, o.metadata!.name!), body };
}

/**
 * The resourceVersion each object had when a non-destructive cluster judged the call (per call, by its context):
 * the apply that follows is pinned to it, so a concurrent write between the judgement and the apply (another call
 * taking fields over, so that this one's omissions now remove them) makes it fail instead of destroy.
 */
const judged = new WeakMap<ToolContext, Map<string, string>>();

/** One server-side apply; `created` from the apiserver's 201. */
async function sendApply(ctx: ToolContext, t: Target, a: ApplyArgs, dryRun: boolean): Promise<{ stored: KubeObject; created: boolean }> {
  const fieldManager = await fieldManagerFor(ctx);
  if (isCoreSecret(t.r) && !a.force && t.body.data) {
    const conflict = secretDataConflict(await live(ctx, t.path), t.body, fieldManager);
    if (conflict) throw new ToolRefusal(conflict);
  }
  const res = await ctx.clients().rest.request('PATCH', t.path, {
    body: t.body,
    contentType: 'application/apply-patch+yaml',
    query: { fieldManager, force: a.force, fieldValidation: a.fieldValidation, dryRun: dryRun ? 'All' : undefined },
    signal: ctx.signal,
  });
  if (res.truncated) throw new ToolRefusal('the apiserver answered with an object over the read cap');
  return { stored: { apiVersion: t.body.apiVersion, kind: t.body.kind, ...(JSON.parse(res.text) as KubeObject) }, created: res.status === 201 };
}

/** The live object, or undefined when it does not exist yet. */
async function live(ctx: ToolContext, path: string): Promise<KubeObject | undefined> {
  try {
    return await ctx.clients().rest.get<KubeObject>(path, { signal: ctx.signal });
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return undefined;
    throw err;
  }
}

/** Why a document failed, told as the fix: a conflict names its owners, an unknown field its path. */
function failureText(err: unknown, o: KubeObject): string | undefined {
  if (err instanceof KubeApiError) {
    const conflict = explainConflict(err);
    if (conflict) return conflict;
    const why = err.toToolText();
    if (err.status === 409 && /has been modified/.test(why)) return `${why} (it changed after this call checked it; nothing was changed: apply again)`;
    const undeclared = /(\.[\w.[\]"-]+): field not declared in schema/.exec(why);
    return undeclared ? `Invalid: the field ${undeclared[1]} is not in the ${o.kind} schema (misspelled, or at the wrong level); fix the manifest and apply again` : why;
  }
  return err instanceof ToolRefusal ? err.message : undefined;
}

const label = (o: KubeObject, ns: string | undefined) => `${o.kind!.toLowerCase()}/${o.metadata!.name}${ns ? ` in ${ns}` : ''}`;

export const resourcesCreateOrUpdate = defineTool({
  name: 'resources_create_or_update',
  title: 'Resources: Create or Update',
  description:
    'Create or update objects from a YAML or JSON manifest (several documents allowed) with server-side apply: the manifest is your whole intent for the fields you manage, so a field you applied before and now leave out is removed, while fields other managers set stay. Each user applies as their own field manager ("kube-mcp/<user>"); a field another manager owns is a conflict, explained with its owner, unless force is true. Unknown or misspelled fields are refused (fieldValidation Strict) instead of dropped silently. Use diff to see what would change, dryRun to validate. Every document is attempted in order and reported on its own line ([2/3] kind/name: outcome); if one fails the others still run and the result is an error naming it. wait (up to 120 s) waits until workloads are rolled out or objects Ready. The result shows each object as stored, Secrets masked, and any apiserver warnings (Pod Security, deprecations). A non-destructive cluster refuses an apply that would remove a field or scale to 0.',
  input: applyInput,
  output: applyOutput,
  annotations: WRITE_MAY_DESTROY,
  kinds: (a) => {
    try {
      return parseManifest(a.manifest).map((o) => o.kind!);
    } catch {
      return [];
    }
  },
  async destroys(a, ctx) {
    if (a.dryRun || a.diff) return undefined;
    const objs = parseManifest(a.manifest);
    const found: string[] = [];
    const seen = new Map<string, number>();
    for (const [i, o] of objs.entries()) {
      const t = await target(ctx, o, a.namespace);
      // Each document is judged against the live object, not against what the documents before it leave: a
      // first one taking fields over (force) and a second dropping them would each look harmless.
      const first = seen.get(t.path);
      if (first !== undefined) return `sets ${label(o, t.ns)} twice ([${first + 1}/${objs.length}] and [${i + 1}/${objs.length}]); a later document could remove what an earlier one set, which cannot be judged before it runs. Apply one document per object`;
      seen.set(t.path, i);
      const before = await live(ctx, t.path);
      if (!before) continue;
      const versions = judged.get(ctx) ?? new Map<string, string>();
      judged.set(ctx, versions);
      const rv = before.metadata?.resourceVersion;
      if (typeof rv === 'string') versions.set(t.path, rv);
      let after: KubeObject;
      try {
        after = (await sendApply(ctx, t, a, true)).stored;
      } catch (err) {
        // Refused as a dry run, it is refused for real too (and reported there): nothing to judge.
        if (err instanceof KubeApiError && err.status >= 400 && err.status < 500) continue;
        throw err;
      }
      const d = destructiveChanges(diffObjects(before, after));
      if (d.length) found.push(`${objs.length > 1 ? `[${i + 1}/${objs.length}] ` : ''}${label(o, t.ns)} ${d.join(', ')}`);
    }
    return found.length ? `would destroy: ${found.join('; ')}` : undefined;
  },
  async run(a, ctx) {
    const objs = parseManifest(a.manifest);
    const n = objs.length;
    const docs: DocResult[] = [];
    const lines: string[] = [];
    const stored: KubeObject[] = [];
    const applied: Array<{ doc: DocResult; ref: string; path: string }> = [];
    for (const [i, o] of objs.entries()) {
      const prefix = n > 1 ? `[${i + 1}/${n}] ` : '';
      const doc: DocResult = { index: i + 1, kind: o.kind!, name: o.metadata!.name!, outcome: 'failed' };
      docs.push(doc);
      let ns: string | undefined = o.metadata?.namespace ?? a.namespace;
      try {
        const t = await target(ctx, o, a.namespace);
        ns = t.ns;
        if (t.ns) doc.namespace = t.ns;
        if (a.diff) {
          const before = await live(ctx, t.path);
          const changes = diffObjects(before, (await sendApply(ctx, t, a, true)).stored);
          doc.outcome = 'diff';
          doc.changes = changes.length;
          const what = !before ? `would be created (${changes.length} fields)` : changes.length ? `${changes.length} change${changes.length === 1 ? '' : 's'}` : 'no changes';
          lines.push(`${prefix}${label(o, t.ns)}: ${what}`, ...diffLines(changes));
          continue;
        }
        const pinned = judged.get(ctx)?.get(t.path);
        if (pinned) t.body = { ...t.body, metadata: { ...t.body.metadata, resourceVersion: pinned } };
        const res = await sendApply(ctx, t, a, a.dryRun);
        doc.outcome = a.dryRun ? (res.created ? 'would be created' : 'would be configured') : res.created ? 'created' : 'configured';
        lines.push(`${prefix}${label(o, t.ns)} ${doc.outcome}${a.dryRun ? ' (dry run, nothing persisted)' : ''}`);
        stored.push(slimObject(res.stored, 'normal'));
        applied.push({ doc, ref: label(o, t.ns), path: t.path });
      } catch (err) {
        const why = failureText(err, o);
        if (why === undefined) throw err;
        // One object: the error is the whole result, as for any tool.
        if (n === 1) throw new ToolRefusal(`${o.kind}/${o.metadata!.name} failed: ${why}`);
        doc.error = why;
        if (ns && !doc.namespace) doc.namespace = ns;
        lines.push(`${prefix}${label(o, ns)} FAILED: ${why}`);
      }
    }
    const failed = docs.filter((d) => d.outcome === 'failed');
    if (failed.length) {
      const names = failed.map((d) => `[${d.index}/${n}] ${d.kind}/${d.name}`).join(', ');
      const rest = n - failed.length;
      lines.unshift(
        `${failed.length} of ${n} objects failed (${names}); ${rest ? `the other ${rest} ${a.diff ? 'were compared' : a.dryRun ? 'passed the dry run' : 'were applied'}` : 'none succeeded'}. Every object is attempted in order, so one failure does not stop the rest; fix the failed one and apply the whole manifest again (apply converges).`,
      );
    }
    if (a.wait) {
      if (a.diff || a.dryRun) lines.push(`Not waited: nothing was applied (${a.diff ? 'diff' : 'dry run'}).`);
      else if (applied.length) {
        const outcomes = await waitApplied(ctx, applied, a.wait);
        outcomes.forEach((w: WaitOutcome, k) => (applied[k]!.doc.wait = { ...(w.waitFor ? { waitFor: w.waitFor } : {}), done: w.done, failed: w.failed, message: w.message, waitedSeconds: w.waitedSeconds }));
        const open = outcomes.filter((w) => w.waitFor && !w.done).length;
        lines.push(`Waited (up to ${a.wait}s) for each workload to roll out and each Pod/Job/Ready-condition object to be ready: ${open ? `${open} not ready` : 'all ready'}.`, ...outcomes.map((w) => `  ${waitLine(w, a.wait)}`));
      }
    }
    return {
      text: lines.join('\n') + (stored.length ? '\n---\n' : '\n'),
      ...(stored.length ? { data: stored.length === 1 ? stored[0] : stored } : {}),
      structured: { documents: docs, failed: failed.length },
      ...(failed.length ? { isError: true } : {}),
    };
  },
});
