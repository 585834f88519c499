import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { installGracefulShutdown, InFlightTracker, type GracefulShutdown } from './shutdown.js';

let handle: GracefulShutdown | undefined;
let server: Server | undefined;
afterEach(() => {
  handle?.dispose();
  server?.closeAllConnections();
  server?.close();
});

/** A server whose /slow answers after `ms`, tracked by an InFlightTracker. */
async function start(ms: number): Promise<{ base: string; tracker: InFlightTracker }> {
  const tracker = new InFlightTracker();
  const mw = tracker.middleware();
  server = createServer((req, res) =>
    mw(req, res, () => {
      const delay = req.url === '/slow' ? ms : 0;
      setTimeout(() => res.end(`done ${req.url}`), delay);
    }),
  );
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tracker };
}

describe('graceful shutdown', () => {
  it('lets an in-flight call finish, refuses new connections, then exits 0', async () => {
    const { base, tracker } = await start(300);
    const exits: number[] = [];
    handle = installGracefulShutdown({ servers: [server!], tracker, timeoutMs: 5_000, signals: [], exit: (c) => exits.push(c) });
    const slow = fetch(`${base}/slow`).then(async (r) => ({ status: r.status, body: await r.text() }));
    await expect.poll(() => tracker.active).toBe(1);
    const done = handle.shutdown('test');
    expect(handle.isShuttingDown()).toBe(true);
    await expect(fetch(`${base}/new`)).rejects.toThrow();
    expect(exits).toEqual([]);
    expect(await slow).toEqual({ status: 200, body: 'done /slow' });
    await done;
    expect(exits).toEqual([0]);
  });

  it('answers a request arriving on a kept-alive connection during the drain with 503 and Connection: close', async () => {
    const { base, tracker } = await start(300);
    const { port } = new URL(base);
    const socket = connect(Number(port), '127.0.0.1');
    let raw = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (raw += chunk));
    socket.write('GET /fast HTTP/1.1\r\nHost: x\r\n\r\n');
    await expect.poll(() => raw).toContain('done /fast');
    // The connection is idle and kept alive when draining begins; a request then races its closing.
    tracker.startDraining();
    socket.write('GET /late HTTP/1.1\r\nHost: x\r\n\r\n');
    await expect.poll(() => raw.match(/HTTP\/1\.1 \d{3}/g)?.length ?? 0, { timeout: 3_000 }).toBe(2);
    const [first, second] = raw.split(/(?=HTTP\/1\.1 \d{3})/);
    expect(first).toMatch(/^HTTP\/1\.1 200/);
    expect(first).toContain('done /fast');
    expect(second).toMatch(/^HTTP\/1\.1 503/);
    expect(second).toMatch(/connection: close/i);
    expect(second).toMatch(/retry-after: 1/i);
    socket.destroy();
  });

  it('answers a call in flight when the drain starts normally, with Connection: close', async () => {
    const { base, tracker } = await start(300);
    const { port } = new URL(base);
    const socket = connect(Number(port), '127.0.0.1');
    let raw = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (raw += chunk));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await expect.poll(() => tracker.active).toBe(1);
    tracker.startDraining();
    await closed; // the server closed the kept-alive connection after the answer: no later request can meet a refusal
    expect(raw).toMatch(/^HTTP\/1\.1 200/);
    expect(raw).toMatch(/connection: close/i);
    expect(raw).toContain('done /slow');
  });

  it('closes calls still running at the timeout and still exits 0', async () => {
    const { base, tracker } = await start(60_000);
    const exits: number[] = [];
    const closed: string[] = [];
    handle = installGracefulShutdown({ servers: [server!], tracker, timeoutMs: 200, signals: [], exit: (c) => exits.push(c), onClose: [() => void closed.push('redis')] });
    const stuck = fetch(`${base}/slow`).then(() => 'answered', () => 'cut');
    await expect.poll(() => tracker.active).toBe(1);
    const started = Date.now();
    await handle.shutdown('test');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await stuck).toBe('cut');
    expect(closed).toEqual(['redis']);
    expect(exits).toEqual([0]);
  });

  it('starts on SIGTERM', async () => {
    const { tracker } = await start(0);
    const exits: number[] = [];
    handle = installGracefulShutdown({ servers: [server!], tracker, timeoutMs: 1_000, signals: ['SIGUSR2'], exit: (c) => exits.push(c) });
    process.emit('SIGUSR2', 'SIGUSR2');
    await expect.poll(() => exits).toEqual([0]);
  });

  it('closes listening notification streams at once instead of waiting the whole timeout for them', async () => {
    const tracker = new InFlightTracker();
    const mw = tracker.middleware();
    server = createServer((req, res) =>
      mw(req, res, () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': open\n\n');
      }),
    );
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const stream = await fetch(`${base}/mcp`, { headers: { accept: 'text/event-stream' } });
    const ended = stream.text();
    await expect.poll(() => tracker.listening).toBe(1);
    expect(tracker.active).toBe(0);
    const exits: number[] = [];
    handle = installGracefulShutdown({ servers: [server!], tracker, timeoutMs: 10_000, signals: [], exit: (c) => exits.push(c) });
    const started = Date.now();
    await handle.shutdown('test');
    expect(await ended).toBe(': open\n\n');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(exits).toEqual([0]);
  });
});
