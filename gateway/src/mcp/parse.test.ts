import { describe, expect, it } from 'vitest';
import { McpRequestError } from './errors.js';
import { checkContentType, decodeHeaderValue, parseMcpBody } from './parse.js';

const DELETE = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'pods_delete', arguments: { namespace: 'team-a', name: 'web' } } };
const bytes = (s: string) => Buffer.from(s, 'utf8');

function refusal(fn: () => unknown): { status: number; code: number } {
  try {
    fn();
  } catch (e) {
    if (e instanceof McpRequestError) return { status: e.status, code: e.code };
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('read-and-parse-once: the gateway decides on the message the worker gets', () => {
  it('sees the tools/call behind a UTF-8 BOM and forwards the call without the BOM', () => {
    const parsed = parseMcpBody({ body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes(JSON.stringify(DELETE))]) });
    expect(parsed.calls).toEqual([{ id: 1, name: 'pods_delete', namespace: 'team-a' }]);
    expect(parsed.forwardBody[0]).toBe(0x7b);
    expect(JSON.parse(parsed.forwardBody.toString('utf8'))).toEqual(DELETE);
  });

  it('forwards the re-serialisation of what it parsed, not the bytes it received', () => {
    const sent = '  {"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"pods\\u005fdelete","arguments":{}}}\n';
    const parsed = parseMcpBody({ body: bytes(sent) });
    expect(parsed.calls[0]!.name).toBe('pods_delete');
    expect(parsed.forwardBody.toString('utf8')).toBe('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"pods_delete","arguments":{}}}');
  });

  const refused: Array<[string, Buffer, number]> = [
    ['two BOMs', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]), bytes(JSON.stringify(DELETE))]), -32700],
    ['a UTF-16LE body', Buffer.from(`\ufeff${JSON.stringify(DELETE)}`, 'utf16le'), -32700],
    ['invalid UTF-8 inside a string', Buffer.concat([bytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"pods_'), Buffer.from([0xc3, 0x28]), bytes('delete"}}')]), -32700],
    ['an overlong UTF-8 encoding of "_"', Buffer.concat([bytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"pods'), Buffer.from([0xc1, 0x9f]), bytes('delete"}}')]), -32700],
    ['a duplicate method key', bytes('{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"pods_delete"}}'), -32600],
    ['a duplicate params.name', bytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"pods_list","name":"pods_delete"}}'), -32600],
    ['a duplicate key in arguments', bytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"cluster":"a","cluster":"b"}}}'), -32600],
    ['a duplicate id', bytes('{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/list"}'), -32600],
    ['trailing garbage', bytes(`${JSON.stringify(DELETE)}x`), -32700],
    ['an empty body', Buffer.alloc(0), -32700],
    ['a comment', bytes(`/*x*/${JSON.stringify(DELETE)}`), -32700],
    ['not JSON-RPC 2.0', bytes('{"id":1,"method":"tools/call","params":{"name":"pods_delete"}}'), -32600],
    ['a request that is also a response', bytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"pods_delete"},"result":{}}'), -32600],
    ['a tools/call whose name is not a string', bytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":["pods_delete"]}}'), -32602],
    ['a tools/call without params', bytes('{"jsonrpc":"2.0","id":1,"method":"tools/call"}'), -32602],
    ['arguments that are not an object', bytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"pods_delete","arguments":[1]}}'), -32602],
    ['a number out of range', bytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"pods_list","arguments":{"limit":1e999}}}'), -32600],
    ['a fractional id', bytes('{"jsonrpc":"2.0","id":1.5,"method":"tools/list"}'), -32600],
    ['nesting deeper than 64', bytes(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":${'['.repeat(80)}${']'.repeat(80)}}}`), -32600],
    ['an empty batch', bytes('[]'), -32600],
    ['a batch with one bad element', bytes(`[${JSON.stringify(DELETE)},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"a","name":"b"}}]`), -32600],
    ['a batch of 101', bytes(JSON.stringify(Array.from({ length: 101 }, (_, i) => ({ ...DELETE, id: i })))), -32600],
    ['a scalar', bytes('42'), -32600],
  ];
  it.each(refused)('refuses %s with HTTP 400', (_name, body, code) => {
    expect(refusal(() => parseMcpBody({ body }))).toEqual({ status: 400, code });
  });

  it('reads a non-string arguments.cluster as bad tool input for cluster pinning, not as a malformed request', () => {
    const parsed = parseMcpBody({ body: bytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"pods_list","arguments":{"cluster":{"name":"b"}}}}') });
    expect(parsed.calls).toEqual([{ id: 1, name: 'pods_list', badClusterType: 'an object' }]);
  });

  it('decides every element of a batch', () => {
    const parsed = parseMcpBody({ body: bytes(JSON.stringify([{ ...DELETE, id: 1 }, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'pods_list', arguments: { cluster: 'b' } } }])) });
    expect(parsed.batch).toBe(true);
    expect(parsed.calls.map((c) => [c.id, c.name, c.cluster])).toEqual([
      [1, 'pods_delete', undefined],
      [2, 'pods_list', 'b'],
    ]);
  });

  it('counts a tools/call notification as a call', () => {
    expect(parseMcpBody({ body: bytes('{"jsonrpc":"2.0","method":"tools/call","params":{"name":"pods_delete"}}') }).calls).toHaveLength(1);
  });

  it('keeps a __proto__ key as data (re-serialised unchanged), never as a prototype', () => {
    const parsed = parseMcpBody({ body: bytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"pods_list","arguments":{"__proto__":{"cluster":"b"}}}}') });
    expect(parsed.calls[0]!.cluster).toBeUndefined();
    expect(parsed.forwardBody.toString()).toContain('"__proto__":{"cluster":"b"}');
  });
});

describe('Mcp-Method and Mcp-Name (SEP-2243) agree with the body', () => {
  const body = bytes(JSON.stringify(DELETE));
  it('accepts matching headers, with optional whitespace around them', () => {
    expect(parseMcpBody({ body, mcpMethod: ' tools/call\t', mcpName: ' pods_delete ' }).calls).toHaveLength(1);
  });
  it('accepts a base64 sentinel name that decodes to the body name', () => {
    expect(parseMcpBody({ body, mcpMethod: 'tools/call', mcpName: `=?base64?${Buffer.from('pods_delete').toString('base64')}?=` }).calls).toHaveLength(1);
  });
  it.each([
    ['a different method', { mcpMethod: 'tools/list' }],
    ['a different tool name', { mcpMethod: 'tools/call', mcpName: 'pods_list' }],
    ['a name that differs in case', { mcpName: 'Pods_delete' }],
    ['an invalid base64 sentinel', { mcpName: '=?base64?!!!?=' }],
    ['a sentinel naming another tool', { mcpName: `=?base64?${Buffer.from('pods_list').toString('base64')}?=` }],
  ])('refuses %s with 400', (_n, headers) => {
    expect(refusal(() => parseMcpBody({ body, ...headers }))).toEqual({ status: 400, code: -32600 });
  });
  it('refuses the headers on a batch', () => {
    expect(refusal(() => parseMcpBody({ body: bytes(JSON.stringify([DELETE])), mcpMethod: 'tools/call' }))).toEqual({ status: 400, code: -32600 });
  });
  it('decodes plain values to themselves', () => {
    expect(decodeHeaderValue('pods_list')).toBe('pods_list');
  });
});

describe('Content-Type', () => {
  it.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"'])('accepts %s', (ct) => {
    expect(checkContentType(ct)).toBeUndefined();
  });
  it.each([undefined, 'text/plain', 'application/json; charset=utf-16', 'application/json;charset=iso-8859-1', 'application/jsonx'])('refuses %s with 415', (ct) => {
    expect(checkContentType(ct)?.status).toBe(415);
  });
});
