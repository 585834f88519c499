import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApiserver, type FakeApiserver } from '../../testing/fake-apiserver.js';
import { connectInMemory, testConfig, testDeps } from '../../testing/harness.js';

const LOG = Array.from({ length: 30 }, (_, i) => `I1206 03:${String(i).padStart(2, '0')}:00 kubelet.go:1 line ${i}${i % 10 === 3 ? ' error: PLEG is not healthy' : ''}`).join('\n') + '\n';

let api: FakeApiserver;
beforeAll(async () => {
  api = await startFakeApiserver((req) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api/v1/nodes/n1/proxy/logs/' && url.searchParams.get('query') === 'kubelet') {
      const tail = Number(url.searchParams.get('tailLines'));
      return { status: 200, text: LOG.split('\n').slice(0, -1).slice(-tail).join('\n') + '\n' };
    }
    if (url.pathname === '/api/v1/nodes/n1/proxy/logs/syslog') return { status: 200, text: 'Dec  6 kernel: ok\n' };
    if (url.pathname === '/api/v1/nodes/old/proxy/logs/') return { status: 200, text: '<pre>\n<a href="kubelet.log">kubelet.log</a>\n<a href="pods/">pods/</a>\n</pre>\n' };
    if (url.pathname === '/api/v1/nodes/virtual/proxy/logs/')
      return { status: 503, body: { kind: 'Status', status: 'Failure', reason: 'ServiceUnavailable', code: 503, message: 'error trying to reach service: dial tcp 10.0.0.9:10250: connect: connection refused' } };
    if (url.pathname === '/api/v1/nodes/loop/proxy/logs/') return { status: 400, body: { kind: 'Status', status: 'Failure', reason: 'BadRequest', code: 400, message: 'address not allowed' } };
    return undefined;
  });
});
afterAll(() => api.close());

async function call(args: Record<string, unknown>) {
  const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
  try {
    const res = await client.callTool({ name: 'nodes_log', arguments: args });
    return { res, text: (res.content as Array<{ text: string }>)[0]!.text };
  } finally {
    await close();
  }
}

describe('nodes_log', () => {
  it("reads the kubelet's journal through the node proxy with tailLines", async () => {
    const { res, text } = await call({ name: 'n1', tail: 5 });
    expect(res.isError).toBeFalsy();
    expect(text).toMatch(/^# service kubelet on node n1\n/);
    expect(text.trim().split('\n').slice(1)).toEqual(LOG.trim().split('\n').slice(-5));
    expect(res.structuredContent).toMatchObject({ node: 'n1', source: 'service kubelet', lines: 5, scanned: 5, capped: false, readCapHit: false });
    expect(api.requests.at(-1)!.url).toBe('/api/v1/nodes/n1/proxy/logs/?query=kubelet&tailLines=5');
  });

  it('greps a wider window than the tail and states it', async () => {
    const { res, text } = await call({ name: 'n1', grep: 'PLEG', tail: 2 });
    expect(text).toContain('matched 3 of the last 30 lines read for /PLEG/; showing the last 2');
    expect(text).toContain('line 13 error');
    expect(text).toContain('line 23 error');
    expect(text).not.toContain('line 3 error');
    expect(res.structuredContent).toMatchObject({ matched: 3, scanned: 30, lines: 2 });
  });

  it('reads a file under /var/log with path, and refuses paths that climb out', async () => {
    expect((await call({ name: 'n1', path: 'syslog' })).text).toContain('kernel: ok');
    const bad = await call({ name: 'n1', path: '../etc/shadow' });
    expect(bad.res.isError).toBe(true);
    expect(bad.text).toMatch(/path: a relative file path under \/var\/log/);
  });

  it('says the kubelet is unreachable, and what to do, when the proxy cannot reach it', async () => {
    const { res, text } = await call({ name: 'virtual' });
    expect(res.isError).toBe(true);
    expect(text).toMatch(/^node virtual's kubelet did not serve logs \(apiserver node proxy answered 503 ServiceUnavailable: error trying to reach service/);
    expect(text).toContain('NodeLogQuery');
    expect(text).not.toContain('internal error');
  });

  it("says the apiserver will not proxy to a node's loopback address (what kwok nodes report)", async () => {
    const { res, text } = await call({ name: 'loop' });
    expect(res.isError).toBe(true);
    expect(text).toMatch(/^node loop's kubelet did not serve logs \(apiserver node proxy answered 400 BadRequest: address not allowed\)\. The apiserver will not proxy to the node's address/);
  });

  it('says a kubelet without log queries served its directory listing, and names the files', async () => {
    const { res, text } = await call({ name: 'old' });
    expect(res.isError).toBe(true);
    expect(text).toContain('does not serve log queries');
    expect(text).toContain('Files there: kubelet.log, pods/');
  });
});
