import { createServer } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { receiveTimeout } from './app.js';

describe('receiving a request is bounded on every route (slowloris)', () => {
  it('answers 408 and closes the connection of a client that never finishes its body, but not of one that does', async () => {
    const app = express();
    app.use(receiveTimeout(150));
    app.post('/token', express.urlencoded(), (_req, res) => void res.json({ ok: true }));
    const server = createServer(app);
    server.requestTimeout = 0;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const send = (head: string, body: string) =>
      new Promise<string>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => s.write(head + body));
        let got = '';
        s.on('data', (c: Buffer) => (got += c.toString()));
        s.on('close', () => resolve(got));
        s.on('end', () => s.end());
      });
    const head = (len: number) => `POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${len}\r\nConnection: close\r\n\r\n`;
    const slow = await send(head(100), 'grant_type=');
    expect(slow).toMatch(/^HTTP\/1\.1 408/);
    const fine = await send(head(4), 'a=bc');
    expect(fine).toMatch(/^HTTP\/1\.1 200/);
    server.close();
  });
});
