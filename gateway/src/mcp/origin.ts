import type { NextFunction, Request, Response } from 'express';
import type { Site } from '../http/sites.js';
import { JsonRpcCode, McpRequestError, sendJsonRpcError } from './errors.js';

/**
 * DNS-rebinding protection: a browser request (it carries Origin) is served only from the gateway's own
 * origin or an origin the org lists. Non-browser clients send no Origin and pass.
 */
export function originAllowed(origin: string, site: Site, publicUrl: string): boolean {
  let o: string;
  try {
    o = new URL(origin).origin;
  } catch {
    return false;
  }
  if (o === new URL(publicUrl).origin) return true;
  return site.org.allowedOrigins.some((allowed) => allowed === '*' || safeOrigin(allowed) === o);
}

function safeOrigin(v: string): string | undefined {
  try {
    return new URL(v).origin;
  } catch {
    return undefined;
  }
}

/** CORS for an allowed browser origin: the MCP headers a client must send and read. */
export function applyCors(res: Response, origin: string): void {
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Vary', 'Origin');
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID, traceparent');
  res.setHeader('Access-Control-Expose-Headers', 'Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate, Retry-After, X-Request-Id');
  res.setHeader('Access-Control-Max-Age', '600');
}

/**
 * Step 1, before anything else (a preflight carries no token): a browser Origin must be allowed (403 otherwise);
 * an allowed one gets CORS headers, and OPTIONS is answered here.
 */
export function originStep(publicUrl: string): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined) return req.method === 'OPTIONS' ? void res.status(204).end() : next();
    if (!originAllowed(origin, res.locals.site as Site, publicUrl)) {
      return sendJsonRpcError(res, new McpRequestError(403, JsonRpcCode.InvalidRequest, `Origin ${origin} is not allowed`));
    }
    applyCors(res, origin);
    if (req.method === 'OPTIONS') return void res.status(204).end();
    next();
  };
}
