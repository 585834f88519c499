import express, { type Request, type Response } from 'express';
import { JsonRpcCode, McpRequestError } from './errors.js';

/**
 * Reads a request body whole: gzip, deflate and br are decoded (the limit applies after decoding, so a compressed
 * bomb is cut off), any other Content-Encoding is refused. Resolves with the bytes (empty when there are none).
 */
export function bodyReader(maxBytes: number): (req: Request, res: Response) => Promise<Buffer> {
  const raw = express.raw({ type: () => true, limit: maxBytes });
  return (req, res) =>
    new Promise((resolve, reject) =>
      raw(req, res, (err?: unknown) => {
        if (!err) return resolve(Buffer.isBuffer(req.body) ? (req.body as Buffer) : Buffer.alloc(0));
        const status = (err as { status?: number }).status;
        if (status === 413) return reject(new McpRequestError(413, JsonRpcCode.InvalidRequest, 'request body too large'));
        if (status === 415) return reject(new McpRequestError(415, JsonRpcCode.InvalidRequest, 'unsupported Content-Encoding'));
        reject(new McpRequestError(400, JsonRpcCode.ParseError, 'the request body could not be read'));
      }),
    );
}
