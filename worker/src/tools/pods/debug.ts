import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { resourcePath } from '../../k8s/discovery.js';
import { ToolRefusal } from '../../k8s/errors.js';
import { clusterArg, dryRunArg, nameArg, namespaceArg } from '../args.js';
import { defineTool, DESTRUCTIVE } from '../define.js';
import { PODS } from '../resources/common.js';
import { fieldManagerFor } from '../resources/field-manager.js';

interface PodWithContainers {
  spec?: { containers?: Array<{ name: string }>; ephemeralContainers?: Array<{ name: string }> };
  status?: { ephemeralContainerStatuses?: Array<{ name: string; state?: Record<string, { reason?: string; message?: string } | undefined> }> };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** kubectl debug's naming: "debugger-" and five random characters. */
function generatedName(taken: Set<string>): string {
  for (;;) {
    const name = `debugger-${randomBytes(4).toString('hex').slice(0, 5)}`;
    if (!taken.has(name)) return name;
  }
}

export const podsDebug = defineTool({
  name: 'pods_debug',
  title: 'Pods: Debug',
  description:
    "Add an ephemeral debug container to a running pod, like `kubectl debug --target` (through the pods/ephemeralcontainers subresource): it runs `image` with `command` beside the pod's containers, sharing the target container's process namespace when `target` is set. It is not interactive: read its output with pods_log (container = the returned name), or give a long-running command (e.g. [\"sleep\",\"3600\"]) and run commands in it with pods_exec. An ephemeral container cannot be removed or restarted; it stays until the pod is deleted. dryRun is a server-side dry run of the same patch. Needs patch on pods/ephemeralcontainers.",
  input: z.object({
    cluster: clusterArg,
    name: nameArg.describe('Pod name.'),
    namespace: namespaceArg,
    image: z.string().min(1).describe('Image of the debug container, e.g. "busybox:1.36".'),
    target: z.string().optional().describe("Container whose process namespace the debugger joins (kubectl debug --target), so it sees that container's processes."),
    command: z.array(z.string()).min(1).optional().describe('argv to run, e.g. ["sh","-c","ps aux; netstat -tlnp"]. Default: the image\'s entrypoint.'),
    container: z.string().regex(DNS_LABEL, 'a DNS label: lowercase letters, digits and "-"').max(63).optional().describe('Name for the debug container. Default "debugger-<random>".'),
    dryRun: dryRunArg,
  }),
  output: z.object({ pod: z.string(), namespace: z.string(), container: z.string(), image: z.string(), target: z.string().optional(), dryRun: z.boolean(), state: z.string().optional() }),
  annotations: DESTRUCTIVE,
  kinds: () => ['Pod'],
  async run(a, ctx) {
    const ns = a.namespace ?? 'default';
    const rest = ctx.clients().rest;
    const pod = await rest.get<PodWithContainers>(resourcePath(PODS, ns, a.name), { signal: ctx.signal });
    const containers = (pod.spec?.containers ?? []).map((c) => c.name);
    const taken = new Set([...containers, ...(pod.spec?.ephemeralContainers ?? []).map((c) => c.name)]);
    if (a.target && !containers.includes(a.target)) throw new ToolRefusal(`pod ${ns}/${a.name} has no container ${a.target}; its containers are: ${containers.join(', ')}. Pass one as target, or leave target out`);
    if (a.container && taken.has(a.container)) throw new ToolRefusal(`pod ${ns}/${a.name} already has a container named ${a.container} (ephemeral containers cannot be replaced); leave container out for a generated name`);
    const name = a.container ?? generatedName(taken);
    const spec = {
      name,
      image: a.image,
      ...(a.command ? { command: a.command } : {}),
      ...(a.target ? { targetContainerName: a.target } : {}),
      imagePullPolicy: 'IfNotPresent',
      terminationMessagePolicy: 'File',
      stdin: false,
      tty: false,
    };
    // A strategic merge patch adds one entry by name (what kubectl debug sends); the other ephemeral containers stay.
    const stored = await rest.json<PodWithContainers>('PATCH', resourcePath(PODS, ns, a.name, 'ephemeralcontainers'), {
      body: { spec: { ephemeralContainers: [spec] } },
      contentType: 'application/strategic-merge-patch+json',
      query: { fieldManager: await fieldManagerFor(ctx), dryRun: a.dryRun ? 'All' : undefined },
      signal: ctx.signal,
    });
    const status = stored.status?.ephemeralContainerStatuses?.find((s) => s.name === name);
    const stateName = status?.state ? Object.keys(status.state)[0] : undefined;
    const state = stateName ? `${stateName}${status?.state?.[stateName]?.reason ? ` (${status.state[stateName]!.reason})` : ''}` : undefined;
    const what = `ephemeral container ${name} (image ${a.image}${a.command ? `, command ${JSON.stringify(a.command)}` : ''}${a.target ? `, target ${a.target}` : ''})`;
    const text = a.dryRun
      ? `dry run: the apiserver accepted adding ${what} to pod ${ns}/${a.name}; nothing was persisted (server-side dry run). Call again without dryRun to add it.`
      : [
          `added ${what} to pod ${ns}/${a.name}${state ? `; state: ${state}` : '; it starts once the kubelet has pulled the image'}.`,
          `Its output: pods_log name=${a.name} namespace=${ns} container=${name}.`,
          `If its command keeps running: pods_exec name=${a.name} namespace=${ns} container=${name} command=[...].`,
          'It cannot be removed or restarted; it goes away with the pod.',
        ].join('\n');
    return { text, structured: { pod: a.name, namespace: ns, container: name, image: a.image, ...(a.target ? { target: a.target } : {}), dryRun: a.dryRun, ...(state ? { state } : {}) } };
  },
});
