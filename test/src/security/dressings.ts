// Ways to dress one JSON-RPC message on its way to the MCP URL: encodings, BOMs, charsets, content types,
// compression, batches, duplicate keys, escapes, whitespace, header/body disagreement, huge numbers, nesting and
// size. The parser-differential suites send each one and require that the gateway decides on exactly what the
// worker would execute, or refuses the request. Pure data: no network here.
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';

export interface Dressing {
  /** What the test is named after. */
  name: string;
  /** Request headers besides Authorization (a string[] value is sent as repeated header lines). */
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** The message every dressing carries: a destructive call the caller's token does not allow. */
export interface Target {
  tool: string;
  namespace: string;
  pod: string;
}

const BASE_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };

/** The canonical text of a tools/call of `tool` on the target pod (dryRun false: a real delete). */
export function callText(t: Target, tool = t.tool, id: string | number = 1): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: { namespace: t.namespace, name: t.pod, dryRun: false } } });
}

function utf16be(s: string): Buffer {
  const le = Buffer.from(s, 'utf16le');
  for (let i = 0; i + 1 < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1]!, le[i]!];
  return le;
}

const BOM8 = Buffer.from([0xef, 0xbb, 0xbf]);
const BOM16LE = Buffer.from([0xff, 0xfe]);
const BOM16BE = Buffer.from([0xfe, 0xff]);

/** The params object as text, for rows that splice keys in by hand. */
function argsText(t: Target): string {
  return JSON.stringify({ namespace: t.namespace, name: t.pod, dryRun: false });
}

/** Deeply nested arrays inside an ignored _meta field. */
function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/**
 * At least 30 dressings of `callText(t)`; `readTool` is a tool the token may call (for rows that hide the
 * destructive call behind an allowed name).
 */
export function dressings(t: Target, readTool = 'pods_list'): Dressing[] {
  const text = callText(t);
  const utf8 = Buffer.from(text, 'utf8');
  const h = (extra: Record<string, string | string[]> = {}) => ({ ...BASE_HEADERS, ...extra });
  const row = (name: string, body: Buffer | string, headers: Record<string, string | string[]> = h()): Dressing => ({ name, headers, body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body });
  const args = argsText(t);
  const callWith = (params: string, top = '"jsonrpc":"2.0","id":1,"method":"tools/call"') => `{${top},"params":${params}}`;
  const del = `"name":"${t.tool}","arguments":${args}`;
  const withMethod = (method: string) => `{"jsonrpc":"2.0","id":1,"method":"${method}","params":{${del}}}`;
  const withName = (name: string) => callWith(`{"name":"${name}","arguments":${args}}`);
  const invalidUtf8 = Buffer.concat([Buffer.from(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{${del},"_meta":{"x":"`), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}}}')]);
  // An overlong two-byte encoding of "d" (0x64) in the tool name: a lenient decoder that accepts it runs pods_delete.
  const overlongName = Buffer.concat([Buffer.from(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"${t.tool.replace('delete', '')}`), Buffer.from([0xc1, 0xa4]), Buffer.from(`elete","arguments":${args}}}`)]);
  const overlongSlash = Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools'), Buffer.from([0xc0, 0xaf]), Buffer.from(`call","params":{${del}}}`)]);
  const latin1 = Buffer.from(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{${del},"_meta":{"x":"caf\u00e9"}}}`, 'latin1');
  const notification = '{"jsonrpc":"2.0","method":"notifications/initialized"}';

  return [
    row('the plain message', utf8),
    row('a UTF-8 BOM before the message', Buffer.concat([BOM8, utf8])),
    row('two UTF-8 BOMs before the message', Buffer.concat([BOM8, BOM8, utf8])),
    row('a UTF-8 BOM with charset=utf-8', Buffer.concat([BOM8, utf8]), h({ 'content-type': 'application/json; charset=utf-8' })),
    row('UTF-16LE with a BOM', Buffer.concat([BOM16LE, Buffer.from(text, 'utf16le')])),
    row('UTF-16LE without a BOM', Buffer.from(text, 'utf16le')),
    row('UTF-16BE with a BOM', Buffer.concat([BOM16BE, utf16be(text)])),
    row('UTF-16BE without a BOM', utf16be(text)),
    row('UTF-16LE labelled charset=utf-16', Buffer.concat([BOM16LE, Buffer.from(text, 'utf16le')]), h({ 'content-type': 'application/json; charset=utf-16' })),
    row('UTF-8 labelled charset=utf-16', utf8, h({ 'content-type': 'application/json; charset=utf-16' })),
    row('latin1 bytes labelled charset=latin1', latin1, h({ 'content-type': 'application/json; charset=latin1' })),
    row('invalid UTF-8 bytes inside a string', invalidUtf8),
    row('an overlong UTF-8 encoding inside the tool name', overlongName),
    row('an overlong UTF-8 "/" inside the method', overlongSlash),
    row('no Content-Type', utf8, { accept: BASE_HEADERS.accept, 'mcp-protocol-version': BASE_HEADERS['mcp-protocol-version'] } as Record<string, string>),
    row('Content-Type text/plain', utf8, h({ 'content-type': 'text/plain' })),
    row('Content-Type APPLICATION/JSON in capitals', utf8, h({ 'content-type': 'APPLICATION/JSON' })),
    row('Content-Type application/json-patch+json', utf8, h({ 'content-type': 'application/json-patch+json' })),
    row('two Content-Type headers (text/plain, application/json)', utf8, h({ 'content-type': ['text/plain', 'application/json'] })),
    row('two Content-Type headers (application/json, text/plain)', utf8, h({ 'content-type': ['application/json', 'text/plain'] })),
    row('Content-Encoding gzip', gzipSync(utf8), h({ 'content-encoding': 'gzip' })),
    row('Content-Encoding deflate', deflateSync(utf8), h({ 'content-encoding': 'deflate' })),
    row('Content-Encoding br', brotliCompressSync(utf8), h({ 'content-encoding': 'br' })),
    row('Content-Encoding identity', utf8, h({ 'content-encoding': 'identity' })),
    row('Content-Encoding of an unknown coding', utf8, h({ 'content-encoding': 'x-kmg-unknown' })),
    row('Content-Encoding gzip on a body that is not compressed', utf8, h({ 'content-encoding': 'gzip' })),
    row('Content-Encoding gzip twice (gzip, gzip)', gzipSync(gzipSync(utf8)), h({ 'content-encoding': 'gzip, gzip' })),
    row('a batch of one call', `[${text}]`),
    row('a batch of the call and a notification', `[${text},${notification}]`),
    row('a batch of a read call and the call', `[${callText(t, readTool, 2)},${callText(t, t.tool, 3)}]`),
    row('an empty batch', '[]'),
    row('the call nested in an array inside a batch', `[[${text}]]`),
    row('duplicate "method" keys (tools/list first)', `{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{${del}}}`),
    row('duplicate "method" keys (tools/call first)', `{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"tools/list","params":{${del}}}`),
    row('duplicate "name" keys (the read tool first)', callWith(`{"name":"${readTool}","name":"${t.tool}","arguments":${args}}`)),
    row('duplicate "arguments" keys', callWith(`{"name":"${t.tool}","arguments":{"namespace":"kube-system","name":"none"},"arguments":${args}}`)),
    row('duplicate "params" keys', `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"${readTool}","arguments":${args}},"params":{${del}}}`),
    row('duplicate "id" keys', `{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/call","params":{${del}}}`),
    row('a unicode escape in the method ("tools\\u002fcall")', withMethod('tools\\u002fcall')),
    row('a unicode escape in the tool name ("pods_\\u0064elete")', withName(t.tool.replace('delete', '\\u0064elete'))),
    row('every character of the tool name escaped', withName([...t.tool].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''))),
    row('an escaped BOM inside the method string', withMethod('\\ufefftools/call')),
    row('leading whitespace and newlines', ` \r\n\t ${text}`),
    row('trailing whitespace and newlines', `${text} \r\n\t\n`),
    row('a NUL byte after the message', Buffer.concat([utf8, Buffer.from([0])])),
    row('a NUL byte before the message', Buffer.concat([Buffer.from([0]), utf8])),
    row('trailing garbage after the message', `${text}garbage`),
    row('two messages back to back', `${callText(t, readTool, 2)}${text}`),
    row('Mcp-Method says tools/list, the body calls a tool', utf8, h({ 'mcp-method': 'tools/list' })),
    row(`Mcp-Name says ${readTool}, the body calls ${t.tool}`, utf8, h({ 'mcp-method': 'tools/call', 'mcp-name': readTool })),
    row('a 400-digit id', callWith(`{${del}}`, `"jsonrpc":"2.0","id":1${'0'.repeat(400)},"method":"tools/call"`)),
    row('an id of 1e400', callWith(`{${del}}`, '"jsonrpc":"2.0","id":1e400,"method":"tools/call"')),
    row('an id past 2^64', callWith(`{${del}}`, '"jsonrpc":"2.0","id":18446744073709551617,"method":"tools/call"')),
    row('arguments nested 5,000 deep beside the call', callWith(`{${del},"_meta":{"deep":${nested(5000)}}}`)),
    row('a 3 MB body (padding in _meta)', callWith(`{${del},"_meta":{"pad":"${'x'.repeat(3 * 1024 * 1024)}"}}`)),
    row('a body over the 4 MiB limit', callWith(`{${del},"_meta":{"pad":"${'x'.repeat(4 * 1024 * 1024 + 16)}"}}`)),
    row('a __proto__ key holding the read tool name', callWith(`{"__proto__":{"name":"${readTool}"},${del}}`)),
    row('params under __proto__ only', `{"jsonrpc":"2.0","id":1,"method":"tools/call","__proto__":{"params":{${del}}}}`),
    row('a constructor key in the arguments', callWith(`{"name":"${t.tool}","arguments":{"constructor":{"prototype":{"x":1}},"namespace":"${t.namespace}","name":"${t.pod}","dryRun":false}}`)),
    row('jsonrpc "1.0"', text.replace('"2.0"', '"1.0"')),
    row('a method with a trailing space', withMethod('tools/call ')),
    row('the tool name in other case', withName(t.tool.toUpperCase())),
  ];
}
