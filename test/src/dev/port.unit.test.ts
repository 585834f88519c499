import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listenOrExplain, PortInUseError } from './port.js';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => (s.listening ? s.close(r) : r(undefined)))));
});

async function occupy(handler: http.RequestListener): Promise<number> {
  const s = http.createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
}

describe('npm start: the gateway port', () => {
  it('is one line naming the port and the fix when another program holds it', async () => {
    const port = await occupy((_q, res) => res.end('hello'));
    const mine = http.createServer();
    servers.push(mine);
    const err = await listenOrExplain(mine, port, '127.0.0.1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortInUseError);
    expect((err as Error).message).toBe(`port ${port} on 127.0.0.1 is in use by another program; stop that, or pick another port: PORT=${port + 1} npm start`);
    expect(mine.listening).toBe(false);
  });

  it('says when the holder is another kube-mcp-gateway (a second npm start elsewhere)', async () => {
    let port = 0;
    port = await occupy((_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: `http://127.0.0.1:${port}` })));
    const err = await listenOrExplain(http.createServer(), port, '127.0.0.1').catch((e: unknown) => e);
    expect((err as Error).message).toContain(`is in use by another kube-mcp-gateway (issuer http://127.0.0.1:${port}; a second npm start?)`);
    expect((err as Error).message).not.toContain('\n');
  });

  it('listens on a free port when given 0', async () => {
    const s = http.createServer();
    servers.push(s);
    const port = await listenOrExplain(s, 0, '127.0.0.1');
    expect(port).toBeGreaterThan(0);
    expect(s.listening).toBe(true);
  });
});
