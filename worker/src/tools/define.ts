import type { z } from 'zod';
import type { ClusterConfig, Policy, WorkerConfig } from '../config.js';
import type { Identity } from '../identity/types.js';
import type { ClientFactory, KubeClients } from '../k8s/clients.js';
import type { DiscoveryCache } from '../k8s/discovery.js';
import type { RevealPolicy } from '../output/mask.js';
import type { ListPage } from '../output/page.js';
import { collectWarnings } from '../k8s/warnings.js';
import { withNextStep } from './next-step.js';

export interface ToolAnnotationsStrict {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** What a tool handler gets: the resolved cluster, the caller, and shared caches. No per-user state lives anywhere else. */
export interface ToolContext {
  readonly cluster: ClusterConfig;
  readonly identity: Identity;
  readonly config: WorkerConfig;
  readonly factory: ClientFactory;
  readonly discovery: DiscoveryCache;
  readonly policy: Policy;
  readonly signal: AbortSignal;
  clients(): KubeClients;
}

/**
 * What a tool returns. `data` (objects) is rendered to YAML by the server after Secret masking,
 * so a tool cannot forget to mask; `text` is for tables, logs and command output.
 */
export interface ToolOutput {
  text?: string;
  data?: unknown;
  structured?: Record<string, unknown>;
  /** Told to the model when the byte budget cuts the output. */
  truncationHint?: string;
  /** `data` is a list of this kind: apiVersion/kind are dropped from each item after masking (normal detail). */
  listItemsOf?: string;
  /** A list page: rendered item by item (YAML items from `data`, or table lines), cut between whole items by the budget. */
  list?: ListPage;
  /** Only resources_get sets this, from the cluster policy. */
  reveal?: RevealPolicy;
  isError?: boolean;
}

export interface ToolDef<S extends z.ZodObject = z.ZodObject> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly input: S;
  readonly output?: z.ZodObject;
  readonly annotations: ToolAnnotationsStrict;
  /** Kinds the call touches, for kind allow/deny lists. */
  kinds?(args: z.infer<S>): string[];
  /**
   * For a tool marked destructive that destroys only with some arguments (scale to 0, a patch or apply that
   * removes fields): why this call would destroy, or undefined. Such a tool stays listed in non-destructive
   * mode and the handler refuses, before run, each call this names a reason for (see policy.ts).
   */
  destroys?(args: z.infer<S>, ctx: ToolContext): Promise<string | undefined> | string | undefined;
  run(args: z.infer<S>, ctx: ToolContext): Promise<ToolOutput>;
}

/** Puts the apiserver's warnings at the top of a result, where the model reads first. */
export function withWarnings(out: ToolOutput, warnings: string[]): ToolOutput {
  if (!warnings.length) return out;
  const note = warnings.map((w) => `Warning (from the apiserver): ${w}`).join('\n') + '\n';
  if (out.list) {
    const header = out.list.header;
    return { ...out, list: { ...out.list, header: (k, cut) => note + header(k, cut) } };
  }
  return { ...out, text: note + (out.text ?? '') };
}

/** Every tool's run collects the Warning headers of its apiserver requests and shows them in its result. */
export function defineTool<S extends z.ZodObject>(def: ToolDef<S>): ToolDef<S> {
  const run = def.run.bind(def);
  return {
    ...def,
    async run(args, ctx) {
      try {
        const { value, warnings } = await collectWarnings(() => run(args, ctx));
        return withWarnings(value, warnings);
      } catch (err) {
        // Only a tool that takes a namespace can be told to pass one (nodes_top's 403 is the user's answer).
        throw await withNextStep(err, ctx, args as { namespace?: unknown }, 'namespace' in def.input.shape);
      }
    },
  };
}

/** A read tool: safe, repeatable, talks to a cluster. */
export const READ: ToolAnnotationsStrict = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };
/** A write that converges (apply, scale, patch). */
export const WRITE: ToolAnnotationsStrict = { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true };
/** A write that converges but can destroy with some arguments (scale to 0, patch, apply): needs `destroys`. */
export const WRITE_MAY_DESTROY: ToolAnnotationsStrict = { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true };
/** A write that removes or runs something. */
export const DESTRUCTIVE: ToolAnnotationsStrict = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true };
