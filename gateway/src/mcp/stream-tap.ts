import type { IncomingMessage, ServerResponse } from 'node:http';

const EVENT_END = /(\r?\n){2}$/;
const IS_ERROR = /"isError"\s*:\s*true/;

export interface TapResult {
  /** The response contained a tool result with isError: true (best effort, for audit). */
  toolError: boolean;
}

/**
 * Watches a streamed worker response without buffering it: sends an SSE comment after `keepAliveMs` of
 * silence (only between events, never inside one) so idle timeouts in front of the gateway do not cut an
 * active tool call, and notes whether a tool error went by.
 */
export function tapResponse(proxyRes: IncomingMessage, res: ServerResponse, keepAliveMs: number): TapResult {
  const result: TapResult = { toolError: false };
  const sse = String(proxyRes.headers['content-type'] ?? '').includes('text/event-stream');
  let atBoundary = true;
  let last = Date.now();
  let tail = '';
  proxyRes.on('data', (chunk: Buffer) => {
    last = Date.now();
    const text = tail + chunk.toString('utf8');
    if (!result.toolError && IS_ERROR.test(text)) result.toolError = true;
    tail = text.slice(-32);
    atBoundary = EVENT_END.test(text);
  });
  if (!sse) return result;
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
  return result;
}
