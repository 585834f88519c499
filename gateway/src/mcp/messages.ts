/** The little of JSON-RPC the gateway reads to route and authorise. Bodies are forwarded byte for byte. */
export interface JsonRpcMessage {
  jsonrpc?: string;
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown> & { name?: unknown; arguments?: unknown; protocolVersion?: unknown };
  result?: Record<string, unknown>;
  error?: unknown;
}

export interface ParsedBody {
  messages: JsonRpcMessage[];
  batch: boolean;
}

/** null when the body is not JSON (the worker answers that with its own parse error). */
export function parseBody(buf: Buffer | undefined): ParsedBody | null {
  if (!buf || buf.length === 0) return null;
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch {
    return null;
  }
  if (Array.isArray(v)) return { messages: v.filter(isObject) as JsonRpcMessage[], batch: true };
  return isObject(v) ? { messages: [v as JsonRpcMessage], batch: false } : null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function toolCallOf(m: JsonRpcMessage): { name: string; namespace?: string } | undefined {
  if (m.method !== 'tools/call' || typeof m.params?.name !== 'string') return undefined;
  const args = m.params.arguments;
  const ns = isObject(args) && typeof args.namespace === 'string' ? args.namespace : undefined;
  return { name: m.params.name, ...(ns ? { namespace: ns } : {}) };
}

export function jsonRpcError(id: JsonRpcMessage['id'], code: number, message: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id: id ?? null, error: { code, message } });
}

/**
 * Applies `fn` to each JSON-RPC message of a response body, JSON or SSE (`data:` lines per event),
 * and re-serialises. Used only for responses the gateway rewrites (tools/list), never for tool output.
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

/** Every JSON-RPC message in a response body (JSON or SSE). */
export function messagesIn(body: string, contentType: string | undefined): JsonRpcMessage[] {
  const found: JsonRpcMessage[] = [];
  rewriteMessages(body, contentType, (m) => {
    found.push(m);
    return m;
  });
  return found;
}
