import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApiserver, type FakeApiserver } from '../../testing/fake-apiserver.js';
import { connectInMemory, testConfig, testDeps } from '../../testing/harness.js';
import { foldEvents, parseSince, type KubeEvent } from './events.js';

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

function ev(ns: string, name: string, reason: string, lastMinAgo: number, extra: Partial<KubeEvent> = {}): KubeEvent {
  return {
    metadata: { name, namespace: ns },
    involvedObject: { kind: 'Pod', name: name.split('.')[0], namespace: ns },
    type: 'Warning',
    reason,
    message: `${reason} happened`,
    count: 1,
    firstTimestamp: minutesAgo(lastMinAgo + 1),
    lastTimestamp: minutesAgo(lastMinAgo),
    ...extra,
  };
}

// Key order (namespace, then name) as the apiserver returns it: "a-old" first, the newest in "z-new".
const ALL: KubeEvent[] = [
  ...Array.from({ length: 600 }, (_, i) => ev('a-old', `old-${String(i).padStart(3, '0')}.1`, 'Stale', 300 + i)),
  ev('m-mid', 'web.1', 'BackOff', 20, { count: 5 }),
  ev('m-mid', 'web.2', 'BackOff', 2, { count: 3, firstTimestamp: minutesAgo(90) }),
  ev('z-new', 'api.1', 'FailedScheduling', 1),
];

let api: FakeApiserver;
beforeAll(async () => {
  api = await startFakeApiserver((req) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/api/v1/events') return undefined;
    const start = Number(url.searchParams.get('continue') ?? 0);
    const limit = Number(url.searchParams.get('limit') ?? 500);
    const sel = url.searchParams.get('fieldSelector') ?? '';
    const reason = /reason=([^,]+)/.exec(sel)?.[1];
    const matching = ALL.filter((e) => !reason || e.reason === reason);
    const items = matching.slice(start, start + limit);
    const next = start + limit < matching.length ? String(start + limit) : undefined;
    return { status: 200, body: { kind: 'EventList', metadata: next ? { continue: next, remainingItemCount: matching.length - start - limit } : {}, items } };
  });
});
afterAll(() => api.close());

describe('events_list', () => {
  it('shows the newest events first across namespaces, reading every page, and says how many it read', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'events_list', arguments: { limit: 3 } });
    const text = (res.content as Array<{ text: string }>)[0]!.text;
    const sc = res.structuredContent as { read: number; readAll: boolean; rows: Array<Record<string, string>> };
    expect(sc.read).toBe(603);
    expect(sc.readAll).toBe(true);
    expect(sc.rows.map((r) => `${r.namespace}/${r.object}/${r.reason}`)).toEqual(['z-new/Pod/api/FailedScheduling', 'm-mid/Pod/web/BackOff', 'a-old/Pod/old-000/Stale']);
    expect(text).toContain('read all 603 events');
    expect(text.split('\n')[2]).toMatch(/^z-new\s+6\ds\s+Warning\s+FailedScheduling/);
    await close();
  });

  it('folds repeats of one event into a count with first and last seen', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'events_list', arguments: { reason: 'BackOff' } });
    const rows = (res.structuredContent as { rows: Array<Record<string, string>> }).rows;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ namespace: 'm-mid', object: 'Pod/web', reason: 'BackOff', count: '8' });
    expect(Date.parse(rows[0]!.firstSeen!)).toBeLessThan(Date.now() - 80 * 60_000);
    expect(Date.parse(rows[0]!.lastSeen!)).toBeGreaterThan(Date.now() - 5 * 60_000);
    expect(api.requests.at(-1)!.url).toContain('fieldSelector=reason%3DBackOff');
    await close();
  });

  it('keeps only events seen within `since`', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'events_list', arguments: { since: '30m' } });
    const rows = (res.structuredContent as { rows: Array<Record<string, string>> }).rows;
    expect(rows.map((r) => r.reason)).toEqual(['FailedScheduling', 'BackOff']);
    await close();
  });

  it('says when the read cap stopped it before the last page', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'events_list', arguments: { readCap: 500, limit: 1 } });
    const text = (res.content as Array<{ text: string }>)[0]!.text;
    expect(res.structuredContent).toMatchObject({ read: 500, readAll: false });
    expect(text).toContain('read the first 500 events in key order (about 103 more not read), so newer ones may be missing');
    await close();
  });

  it('folds by object, type, reason and message, and parses since', () => {
    expect(foldEvents([ev('n', 'a.1', 'X', 1), ev('n', 'a.2', 'X', 2), ev('n', 'b.1', 'X', 3)]).map((f) => [f.object, f.count])).toEqual([['Pod/a', 2], ['Pod/b', 1]]);
    expect(parseSince('30m')).toBe(1800);
    expect(() => parseSince('soon')).toThrow(/since must look like/);
  });
});
