import type { JsonRpcMessage } from './parse.js';

/**
 * Applies `fn` to each JSON-RPC message of a worker's answer, JSON or SSE (`data:` lines per event), and
 * re-serialises. Used only for answers the gateway rewrites (tools/list), never for tool output.
 */
export function rewriteMessages(body: string, contentType: string | undefined, fn: (m: JsonRpcMessage) => JsonRpcMessage): string {
  if (contentType?.includes('text/event-stream')) {
    return body
      .split(/\r?\n\r?\n/)
      .map((event) => {
        const lines = event.split(/\r?\n/);
        const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, ''));
        if (!data.length) return event;
        let msg: unknown;
        try {
          msg = JSON.parse(data.join('\n'));
        } catch {
          return event;
        }
        const out = Array.isArray(msg) ? msg.map((m) => fn(m as JsonRpcMessage)) : fn(msg as JsonRpcMessage);
        return [...lines.filter((l) => !l.startsWith('data:')), `data: ${JSON.stringify(out)}`].join('\n');
      })
      .join('\n\n');
  }
  try {
    const msg: unknown = JSON.parse(body);
    return JSON.stringify(Array.isArray(msg) ? msg.map((m) => fn(m as JsonRpcMessage)) : fn(msg as JsonRpcMessage));
  } catch {
    return body;
  }
}

/** Every JSON-RPC message in a worker's answer (JSON or SSE); none when it does not parse. */
export function messagesIn(body: string, contentType: string | undefined): JsonRpcMessage[] {
  const found: JsonRpcMessage[] = [];
  const visit = (m: unknown) => {
    if (typeof m === 'object' && m !== null && !Array.isArray(m)) found.push(m as JsonRpcMessage);
  };
  const take = (text: string) => {
    try {
      const v: unknown = JSON.parse(text);
      if (Array.isArray(v)) v.forEach(visit);
      else visit(v);
    } catch {
      // Not JSON: nothing to read (the answer still passes through unchanged).
    }
  };
  if (!contentType?.includes('text/event-stream')) {
    take(body);
    return found;
  }
  for (const event of body.split(/\r?\n\r?\n/)) {
    const data = event
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''));
    if (data.length) take(data.join('\n'));
  }
  return found;
}
