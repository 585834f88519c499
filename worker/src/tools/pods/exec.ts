import { Exec, type V1Status } from '@kubernetes/client-node';
import { z } from 'zod';
import { ToolRefusal } from '../../k8s/errors.js';
import { accessCheckDryRunArg, clusterArg, nameArg, namespaceArg } from '../args.js';
import { defineTool, DESTRUCTIVE } from '../define.js';
import { resourcePath } from '../../k8s/discovery.js';
import { PODS } from '../resources/common.js';
import { dryRunSubresource } from './access-check.js';
import { defaultContainer, DEFAULT_CONTAINER_ANNOTATION, type PodContainers } from './containers.js';
import { describeError } from './port-forward.js';
import { CappedBuffer } from './streams.js';

function exitCodeOf(status: V1Status | undefined): number | undefined {
  if (!status) return undefined;
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  return cause?.message !== undefined ? Number(cause.message) : undefined;
}

export const podsExec = defineTool({
  name: 'pods_exec',
  title: 'Pods: Exec',
  description:
    'Run a command in a container (no shell unless you call one: command is an argv array, e.g. ["ls","-l","/tmp"]). Returns stdout, stderr and the exit code; stops after timeoutSeconds; output is capped.',
  input: z.object({
    cluster: clusterArg,
    name: nameArg,
    namespace: namespaceArg,
    container: z.string().optional().describe(`Container name. Omit for the pod's default container (its ${DEFAULT_CONTAINER_ANNOTATION} annotation, else the first).`),
    command: z.array(z.string()).min(1).describe('argv to run, e.g. ["cat","/etc/hostname"].'),
    timeoutSeconds: z.number().int().min(1).max(300).default(30).describe('Stop the command after this many seconds (default 30).'),
    maxBytes: z.number().int().min(256).max(1024 * 1024).default(32 * 1024).describe('Cap on stdout and on stderr bytes kept (default 32 KiB each).'),
    dryRun: accessCheckDryRunArg,
  }),
  output: z.object({ exitCode: z.number().int().optional(), timedOut: z.boolean(), dryRun: z.boolean() }),
  annotations: DESTRUCTIVE,
  kinds: () => ['Pod'],
  async run(a, ctx) {
    const ns = a.namespace ?? 'default';
    if (a.dryRun) {
      return { text: await dryRunSubresource(ctx, 'exec', ns, a.name, `exec ${JSON.stringify(a.command)} in`), structured: { timedOut: false, dryRun: true } };
    }
    let container = a.container;
    let note = '';
    if (!container) {
      const chosen = defaultContainer(await ctx.clients().rest.get<PodContainers>(resourcePath(PODS, ns, a.name), { signal: ctx.signal }));
      container = chosen.name;
      if (chosen.note) note = `# ${chosen.note}\n`;
    }
    const stdout = new CappedBuffer(a.maxBytes);
    const stderr = new CappedBuffer(a.maxBytes);
    let status: V1Status | undefined;
    let timedOut = false;
    const ws = await new Exec(ctx.clients().kubeConfig())
      .exec(ns, a.name, container, a.command, stdout, stderr, null, false, (s) => {
        status = s;
      })
      .catch((err: unknown) => {
        throw new ToolRefusal(`exec in pod ${ns}/${a.name} failed: ${describeError(err)}`);
      });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timedOut = true;
        ws.close();
        resolve();
      }, a.timeoutSeconds * 1000);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      ws.on('close', done);
      ws.on('error', done);
      ctx.signal.addEventListener('abort', () => {
        ws.close();
        done();
      });
    });
    const exitCode = exitCodeOf(status);
    if (status?.status === 'Failure' && exitCode === undefined) {
      // The command never ran (no such container, kubelet unreachable, ...): an error, not an exit code.
      throw new ToolRefusal(`${status.reason ?? 'Failure'}: ${status.message ?? 'exec failed'}`);
    }
    const parts = [
      `exit code: ${exitCode ?? (timedOut ? 'none (timed out)' : 'unknown')}`,
      `stdout:\n${stdout.text()}${stdout.dropped ? `\n[${stdout.dropped} more bytes dropped]` : ''}`,
    ];
    const err = stderr.text();
    if (err || stderr.dropped) parts.push(`stderr:\n${err}${stderr.dropped ? `\n[${stderr.dropped} more bytes dropped]` : ''}`);
    return {
      text: note + parts.join('\n'),
      structured: { ...(exitCode !== undefined ? { exitCode } : {}), timedOut, dryRun: false },
      truncationHint: 'Lower maxBytes or pipe the command through head/grep.',
    };
  },
});
