import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { fetchVia, trustingAgent } from '../http/ca-fetch.js';
import { z } from 'zod';
import { OAuthError } from './errors.js';

/** Addresses a client-ID metadata document fetch must never reach (SSRF): loopback, private, link-local, etc. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) PRIVATE.addSubnet(net, prefix, 'ipv4');
// IPv6: unspecified, loopback and IPv4-compatible (::/96), discard, the NAT64 prefixes (64:ff9b::/96 reaches any
// IPv4 address, private ones included, through a NAT64 gateway), 6to4 and Teredo (IPv4 inside), documentation,
// unique-local, site-local (fec0::/10, deprecated but still routed by some stacks), link-local, multicast.
// IPv4-mapped addresses (::ffff:a.b.c.d) are judged by BlockList against the IPv4 rules above.
for (const [net, prefix] of [
  ['::', 96], ['100::', 64], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['2001::', 32], ['2001:db8::', 32], ['2002::', 16],
  ['fc00::', 7], ['fec0::', 10], ['fe80::', 10], ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6');
}

export function isPrivateAddress(address: string): boolean {
  // IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged by its IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isPrivateAddress(mapped[1]!);
  const family = isIP(address);
  if (family === 0) return true;
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export const clientMetadataDocumentSchema = z.object({
  client_id: z.string(),
  client_name: z.string().max(200).optional(),
  client_uri: z.string().optional(),
  logo_uri: z.string().optional(),
  redirect_uris: z.array(z.string()).min(1).max(20),
  token_endpoint_auth_method: z.literal('none').default('none'),
  grant_types: z.array(z.string()).optional(),
  response_types: z.array(z.string()).optional(),
  scope: z.string().optional(),
});
export type ClientMetadataDocument = z.infer<typeof clientMetadataDocumentSchema>;

/** A client_id that names a metadata document: https, a path, no fragment or credentials. */
export function isMetadataDocumentClientId(clientId: string): boolean {
  if (!clientId.startsWith('https://')) return false;
  try {
    const u = new URL(clientId);
    return u.pathname !== '/' && !u.hash && !u.username && !u.password;
  } catch {
    return false;
  }
}

export interface MetadataFetchOptions {
  allowPrivateAddresses: boolean;
  timeoutMs: number;
  maxBytes: number;
  /** Extra CA (PEM) for document hosts; tests serve documents with the stack's CA. */
  ca?: string;
}

/**
 * Fetches a client ID metadata document: https only, the address checked at connect time (so a DNS
 * answer that changes between check and connect cannot reach a private address), no redirects,
 * bounded in time and bytes, JSON whose client_id equals the URL.
 */
export function metadataDocumentFetcher(opts: MetadataFetchOptions): (url: string) => Promise<ClientMetadataDocument> {
  const lookup = (hostname: string, options: object, cb: (err: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return cb(err, []);
      const list = addresses as LookupAddress[];
      const bad = list.find((a) => isPrivateAddress(a.address));
      if (bad && !opts.allowPrivateAddresses) return cb(new Error(`refusing to fetch from private address ${bad.address}`), []);
      const all = (options as { all?: boolean }).all;
      if (all) cb(null, list);
      else cb(null, list[0]!.address, list[0]!.family);
    });
  };
  const fetchDoc = fetchVia(trustingAgent({ lookup, connectTimeoutMs: opts.timeoutMs, ...(opts.ca ? { ca: opts.ca } : {}) }));

  return async (url: string) => {
    const u = new URL(url);
    // Literal IPs skip DNS lookup: check them here.
    const literal = u.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal) && isPrivateAddress(literal) && !opts.allowPrivateAddresses) {
      throw new OAuthError('invalid_client', 'client_id metadata document host is a private address');
    }
    let body: string;
    try {
      const res = await fetchDoc(url, { redirect: 'error', signal: AbortSignal.timeout(opts.timeoutMs), headers: { accept: 'application/json' } });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      const declared = Number(res.headers.get('content-length') ?? 0);
      if (declared > opts.maxBytes) throw new Error(`document larger than ${opts.maxBytes} bytes`);
      const chunks: Uint8Array[] = [];
      let size = 0;
      for await (const chunk of res.body ?? []) {
        size += (chunk as Uint8Array).byteLength;
        if (size > opts.maxBytes) throw new Error(`document larger than ${opts.maxBytes} bytes`);
        chunks.push(chunk as Uint8Array);
      }
      body = Buffer.concat(chunks).toString('utf8');
    } catch (cause) {
      // undici wraps connect errors ("fetch failed"); the reason is in the cause chain.
      const inner = (cause as { cause?: { message?: string } }).cause?.message;
      const reason = inner ? `${(cause as Error).message}: ${inner}` : (cause as Error).message;
      throw new OAuthError('invalid_client', `client_id metadata document could not be fetched: ${reason}`, { cause });
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new OAuthError('invalid_client', 'client_id metadata document is not JSON');
    }
    const parsed = clientMetadataDocumentSchema.safeParse(json);
    if (!parsed.success) throw new OAuthError('invalid_client', `client_id metadata document is invalid: ${parsed.error.issues.map((i) => i.path.join('.') + ' ' + i.message).join('; ')}`);
    if (parsed.data.client_id !== url) throw new OAuthError('invalid_client', 'client_id in the metadata document does not equal its URL');
    return parsed.data;
  };
}
