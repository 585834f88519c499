import type { ServerResponse } from 'node:http';

/** JSON-RPC 2.0 and MCP error codes the gateway answers with. */
export const JsonRpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Implementation-defined server errors (rate limit, identity provider unavailable). */
  ServerError: -32000,
  /** MCP: the session named by Mcp-Session-Id is unknown (or another user's). */
  SessionNotFound: -32001,
} as const;

export type JsonRpcId = string | number | null;

/**
 * A refusal any step of the MCP path can throw or return: HTTP status, JSON-RPC code, a message the client may see,
 * and extra response headers (Retry-After). Written only by `sendJsonRpcError`.
 */
export class McpRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'McpRequestError';
  }
}

/** The one writer of JSON-RPC error responses on the MCP path. */
export function sendJsonRpcError(res: ServerResponse, err: McpRequestError, id: JsonRpcId = null): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const body = JSON.stringify({ jsonrpc: '2.0', id, error: { code: err.code, message: err.message } });
  res.statusCode = err.status;
  for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

/** A JSON-RPC error as a message (inside an SSE event or a 200 answer). */
export function jsonRpcErrorMessage(id: JsonRpcId, code: number, message: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } });
}
