import type { NextFunction, Request, Response } from 'express';

/**
 * CORS for the OAuth endpoints browser-based clients call directly (the MCP Inspector runs its OAuth in
 * the page): any origin, no credentials (these endpoints never use cookies), preflight answered here.
 */
export function publicCors(methods: string[]) {
  const allow = [...methods, 'OPTIONS'].join(', ');
  return (req: Request, res: Response, next: NextFunction): void => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'WWW-Authenticate, Retry-After');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', allow);
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, MCP-Protocol-Version');
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}
