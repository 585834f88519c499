import { z } from 'zod';
import { age, renderColumns, slimObject } from '../../output/format.js';
import { objectRefArgs } from '../args.js';
import { defineTool, READ } from '../define.js';
import { EVENTS, getObject, resolveResource } from './common.js';
import { resourcePath } from '../../k8s/discovery.js';
import { KubeApiError } from '../../k8s/errors.js';

interface KubeEvent {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  firstTimestamp?: string;
  metadata?: { creationTimestamp?: string };
  source?: { component?: string };
  reportingComponent?: string;
}

export function eventRows(events: KubeEvent[]): string[][] {
  return events
    .map((e) => ({ e, t: e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp }))
    .sort((x, y) => Date.parse(x.t ?? '') - Date.parse(y.t ?? ''))
    .map(({ e, t }) => [e.type ?? '', e.reason ?? '', age(t), e.source?.component || e.reportingComponent || '', (e.message ?? '').trim()]);
}

export const resourcesDescribe = defineTool({
  name: 'resources_describe',
  title: 'Resources: Describe',
  description: 'Describe one object: its YAML (normal detail, Secrets masked) followed by the events recorded about it, oldest first.',
  input: z.object({
    ...objectRefArgs,
  }),
  annotations: READ,
  kinds: (a) => [a.kind],
  async run(a, ctx) {
    const r = await resolveResource(ctx, a.kind, a.apiVersion);
    const obj = await getObject(ctx, r, a.name, a.namespace);
    const ns = obj.metadata?.namespace;
    let eventsText: string;
    try {
      const list = await ctx.clients().rest.get<{ items?: KubeEvent[] }>(resourcePath(EVENTS, ns), {
        query: { fieldSelector: `involvedObject.uid=${obj.metadata?.uid ?? ''}`, limit: 100 },
        signal: ctx.signal,
      });
      const rows = eventRows(list.items ?? []);
      eventsText = rows.length ? renderColumns(['TYPE', 'REASON', 'AGE', 'FROM', 'MESSAGE'], rows) : '<none>';
    } catch (err) {
      if (!(err instanceof KubeApiError)) throw err;
      eventsText = `<not available: ${err.toToolText()}>`;
    }
    return { data: slimObject(obj, 'normal'), text: `Events:\n${eventsText}\n---\n` };
  },
});
