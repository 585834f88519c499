import type { IncomingMessage, ServerResponse } from 'node:http';

const EVENT_END = /(\r?\n){2}$/;

/**
 * Watches a streamed SSE answer without buffering it: sends an SSE comment after `keepAliveMs` of silence (only
 * between events, never inside one) so idle timeouts in front of the gateway do not cut an active tool call.
 */
export function keepAliveTap(proxyRes: IncomingMessage, res: ServerResponse, keepAliveMs: number): void {
  let atBoundary = true;
  let last = Date.now();
  proxyRes.on('data', (chunk: Buffer) => {
    last = Date.now();
    atBoundary = EVENT_END.test(chunk.toString('latin1', Math.max(0, chunk.length - 4)));
  });
  const timer = setInterval(() => {
    if (res.writableEnded || res.destroyed) return clearInterval(timer);
    if (atBoundary && Date.now() - last >= keepAliveMs) {
      res.write(': keep-alive\n\n');
      last = Date.now();
    }
  }, Math.max(250, Math.floor(keepAliveMs / 3)));
  timer.unref();
  const stop = () => clearInterval(timer);
  proxyRes.on('end', stop);
  // proxyRes is destroyed when the client leaves (forward.ts), which ends the timer too.
  proxyRes.on('close', stop);
}
