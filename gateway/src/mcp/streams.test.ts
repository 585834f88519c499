import { createServer, get, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionStore } from '../sessions/store.js';
import { MemoryKvStore } from '../store/memory.js';
import { McpRequestError } from './errors.js';
import { SessionStreams } from './streams.js';

describe('GET streams per user', () => {
  const streams = new SessionStreams(new SessionStore(new MemoryKvStore()), 60_000, 2);
  const refused: McpRequestError[] = [];
  const server = createServer((req, res: ServerResponse) => {
    try {
      streams.open(res, 'sid', String(req.headers['x-user']));
    } catch (e) {
      refused.push(e as McpRequestError);
      res.writeHead(429).end();
    }
  });
  afterAll(() => (streams.closeAll(), server.close()));

  it('refuses one stream more than the bound with 429 and Retry-After, and frees a slot when a stream closes', async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const open = (user: string) =>
      new Promise<{ status: number; close(): void }>((resolve) => {
        const req = get({ host: '127.0.0.1', port, headers: { 'x-user': user } }, (res) => resolve({ status: res.statusCode ?? 0, close: () => req.destroy() }));
      });
    const a = await open('alice');
    const b = await open('alice');
    expect([a.status, b.status]).toEqual([200, 200]);
    expect((await open('alice')).status).toBe(429);
    expect(refused[0]).toMatchObject({ status: 429, headers: { 'Retry-After': '60' } });
    expect((await open('bob')).status).toBe(200);
    a.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(streams.held('alice')).toBe(1);
    expect((await open('alice')).status).toBe(200);
  });
});
