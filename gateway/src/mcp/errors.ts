import type { ServerResponse } from 'node:http';
import type { Response } from 'express';
import { bearerChallenge } from '../auth/bearer.js';
import { InvalidTokenError } from '../auth/principal.js';
import type { Site } from '../http/sites.js';
import type { AuditRecord } from '../policy/audit.js';

/** JSON-RPC 2.0 and MCP error codes the gateway answers with. */
export const JsonRpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
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
    /** How the audit records the tool calls of a refused request. */
    readonly outcome: AuditRecord['outcome'] = 'rejected',
    /** The JSON-RPC id to answer with, when the refusal concerns one message. */
    readonly id?: JsonRpcId,
  ) {
    super(message);
    this.name = 'McpRequestError';
  }
}

/** The token lacks a scope a tool needs: 403 insufficient_scope naming it (RFC 6750 §3.1). */
export class ScopeRefusal extends Error {
  constructor(
    readonly scope: string,
    message: string,
  ) {
    super(message);
    this.name = 'ScopeRefusal';
  }
}

/** Bad input the model should read (MCP 2025-11-25): a 200 tool result with isError, not a protocol error. */
export class ToolInputRefusal extends Error {
  constructor(
    message: string,
    readonly id: JsonRpcId,
  ) {
    super(message);
    this.name = 'ToolInputRefusal';
  }
}

export type Refusal = McpRequestError | ScopeRefusal | ToolInputRefusal | InvalidTokenError;

export function isRefusal(err: unknown): err is Refusal {
  return err instanceof McpRequestError || err instanceof ScopeRefusal || err instanceof ToolInputRefusal || err instanceof InvalidTokenError;
}

/** Audit outcome and HTTP status of a refusal. */
export function refusalAudit(err: Refusal): { outcome: AuditRecord['outcome']; status: number } {
  if (err instanceof McpRequestError) return { outcome: err.outcome, status: err.status };
  if (err instanceof ScopeRefusal) return { outcome: 'insufficient_scope', status: 403 };
  if (err instanceof ToolInputRefusal) return { outcome: 'rejected', status: 200 };
  return { outcome: 'rejected', status: 401 };
}

/** Writes any refusal: token problems as 401/403 with WWW-Authenticate, the rest as JSON-RPC answers. */
export function sendRefusal(res: Response, site: Site, err: Refusal, id: JsonRpcId): void {
  if (err instanceof InvalidTokenError) return bearerChallenge(res, site, err);
  if (err instanceof ScopeRefusal) return bearerChallenge(res, site, new InvalidTokenError('invalid', err.message), err.scope);
  if (err instanceof ToolInputRefusal) {
    const body = JSON.stringify({ jsonrpc: '2.0', id: err.id, result: { content: [{ type: 'text', text: err.message }], isError: true } });
    res.status(200).setHeader('content-type', 'application/json').end(body);
    return;
  }
  sendJsonRpcError(res, err, err.id !== undefined ? err.id : id);
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
