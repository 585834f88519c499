import { parse as parseJsonAst, type AnyNode } from '@humanwhocodes/momoa';
import { JsonRpcCode, McpRequestError, type JsonRpcId } from './errors.js';
import { methodRule } from './methods.js';

/**
 * Read-and-parse-once: the gateway decides on exactly the message the worker will execute. The body is decoded as
 * strict UTF-8 (a leading BOM dropped), parsed as strict JSON with no duplicate keys and bounded nesting, checked
 * for JSON-RPC shape, checked against the SEP-2243 `Mcp-Method`/`Mcp-Name` headers, and re-serialised: the
 * re-serialisation is what the worker gets, so no byte the gateway did not read reaches it. Anything that does not
 * pass is refused here (HTTP 400/415 with a JSON-RPC error), never forwarded, and so is a method the gateway does
 * not decide on (methods.ts).
 */

/** The little of JSON-RPC the gateway reads to route and authorise. */
export interface JsonRpcMessage {
  jsonrpc?: string;
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown> & { name?: unknown; arguments?: unknown; protocolVersion?: unknown };
  result?: Record<string, unknown>;
  error?: unknown;
}

/** A tools/call in the body: what policy, cluster pinning and the audit read. Never argument values. */
export interface ToolCall {
  readonly id: JsonRpcId;
  readonly name: string;
  readonly namespace?: string;
  /** `arguments.cluster` as sent (the gateway checks it names one of the org's clusters). */
  readonly cluster?: string;
  /** The JSON type of an `arguments.cluster` that is not a string (a tool input error, decided by cluster pinning). */
  readonly badClusterType?: string;
}

export interface ParsedRequest {
  readonly messages: readonly JsonRpcMessage[];
  readonly batch: boolean;
  readonly calls: readonly ToolCall[];
  /** The id of the first message (for refusals that answer the whole request). */
  readonly firstId: JsonRpcId;
  /** The bytes forwarded to the worker: the re-serialisation of the parsed value. */
  readonly forwardBody: Buffer;
}

export interface ParseLimits {
  /** Deepest nesting of arrays and objects accepted. */
  maxDepth: number;
  /** Most messages in one legacy batch (the worker SDK's own bound is 100). */
  maxBatch: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = { maxDepth: 64, maxBatch: 100 };

/** Which body field `Mcp-Name` mirrors, per method (SEP-2243, as the worker SDK checks it). */
const MCP_NAME_SOURCE: Readonly<Record<string, string>> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri', 'tasks/get': 'taskId', 'tasks/update': 'taskId', 'tasks/cancel': 'taskId' };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

const refuse = (code: number, message: string, status = 400) => new McpRequestError(status, code, message);

/**
 * `Content-Type` must be application/json; a charset, when given, must be utf-8 (anything else would be decoded
 * differently by someone). Returns the refusal, or undefined.
 */
export function checkContentType(header: string | undefined): McpRequestError | undefined {
  if (!header) return refuse(JsonRpcCode.InvalidRequest, 'Content-Type must be application/json', 415);
  const [essence, ...params] = header.split(';');
  if (essence!.trim().toLowerCase() !== 'application/json') return refuse(JsonRpcCode.InvalidRequest, 'Content-Type must be application/json', 415);
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    if (p.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    const value = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (value !== 'utf-8' && value !== 'utf8') return refuse(JsonRpcCode.InvalidRequest, 'only the utf-8 charset is accepted', 415);
  }
  return undefined;
}

export interface ParseInput {
  body: Buffer;
  /** SEP-2243 headers, when the client sent them. */
  mcpMethod?: string | undefined;
  mcpName?: string | undefined;
}

/** Parses one POST body; throws McpRequestError for anything the gateway will not forward. */
export function parseMcpBody(input: ParseInput, limits: ParseLimits = DEFAULT_PARSE_LIMITS): ParsedRequest {
  let text: string;
  try {
    // fatal: invalid UTF-8 is refused, not replaced; ignoreBOM false: one leading BOM is consumed by the decoder.
    text = utf8.decode(input.body);
  } catch {
    throw refuse(JsonRpcCode.ParseError, 'Parse error: the body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw refuse(JsonRpcCode.ParseError, 'Parse error: invalid JSON');
  }
  // JSON.parse keeps the last of duplicate keys, other parsers the first: refuse them, and bound the nesting.
  checkStructure(text, limits.maxDepth);

  const batch = Array.isArray(value);
  const elements: unknown[] = batch ? (value as unknown[]) : [value];
  if (batch && elements.length === 0) throw refuse(JsonRpcCode.InvalidRequest, 'Invalid Request: empty batch');
  if (elements.length > limits.maxBatch) throw refuse(JsonRpcCode.InvalidRequest, `Invalid Request: a batch holds at most ${limits.maxBatch} messages`);
  const messages = elements.map(checkMessage);
  const calls: ToolCall[] = [];
  for (const m of messages) {
    methodRule(m, batch);
    const call = toolCallOf(m);
    if (call) calls.push(call);
  }
  checkStandardHeaders(messages, batch, input);
  return { messages, batch, calls, firstId: idOf(messages[0]), forwardBody: Buffer.from(JSON.stringify(value)) };
}

function idOf(m: JsonRpcMessage | undefined): JsonRpcId {
  const id = m?.id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A JSON-RPC 2.0 request, notification or response; anything else is an invalid request. */
function checkMessage(v: unknown): JsonRpcMessage {
  if (!isObject(v) || v.jsonrpc !== '2.0') throw refuse(JsonRpcCode.InvalidRequest, 'Invalid Request: not a JSON-RPC 2.0 message');
  const hasId = Object.hasOwn(v, 'id');
  if (hasId && !(typeof v.id === 'string' || (typeof v.id === 'number' && Number.isSafeInteger(v.id)) || (v.id === null && !Object.hasOwn(v, 'method')))) {
    throw refuse(JsonRpcCode.InvalidRequest, 'Invalid Request: id must be a string or an integer');
  }
  if (Object.hasOwn(v, 'method')) {
    if (typeof v.method !== 'string' || !v.method) throw refuse(JsonRpcCode.InvalidRequest, 'Invalid Request: method must be a string');
    if (Object.hasOwn(v, 'result') || Object.hasOwn(v, 'error')) throw refuse(JsonRpcCode.InvalidRequest, 'Invalid Request: a request carries no result or error');
    if (Object.hasOwn(v, 'params') && !isObject(v.params)) throw refuse(JsonRpcCode.InvalidRequest, 'Invalid Request: params must be an object');
    return v as JsonRpcMessage;
  }
  // A posted response (to a server request): carries an id and exactly one of result and error.
  if (!hasId || Object.hasOwn(v, 'result') === Object.hasOwn(v, 'error')) throw refuse(JsonRpcCode.InvalidRequest, 'Invalid Request: neither a request nor a response');
  return v as JsonRpcMessage;
}

/**
 * tools/call (request or notification) with the fields policy reads. A tools/call whose params the gateway cannot
 * read is refused, so no call runs unchecked.
 */
function toolCallOf(m: JsonRpcMessage): ToolCall | undefined {
  if (m.method !== 'tools/call') return undefined;
  const params = m.params;
  if (!params || typeof params.name !== 'string' || !params.name) throw refuse(JsonRpcCode.InvalidParams, 'Invalid params: tools/call needs params.name');
  const args = params.arguments;
  if (args !== undefined && !isObject(args)) throw refuse(JsonRpcCode.InvalidParams, 'Invalid params: tools/call arguments must be an object');
  const ns = typeof args?.namespace === 'string' ? args.namespace : undefined;
  const cluster = typeof args?.cluster === 'string' ? args.cluster : undefined;
  // A non-string cluster is bad tool input (MCP 2025-11-25, SEP-1303): cluster pinning answers it as a tool error.
  const badClusterType = args?.cluster !== undefined && cluster === undefined ? jsonType(args.cluster) : undefined;
  return {
    id: idOf(m),
    name: params.name,
    ...(ns !== undefined ? { namespace: ns } : {}),
    ...(cluster !== undefined ? { cluster } : {}),
    ...(badClusterType !== undefined ? { badClusterType } : {}),
  };
}

function jsonType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** RFC 9110 optional whitespace (SP, HTAB) around a field value. */
function stripOws(v: string): string {
  return v.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** `=?base64?…?=` sentinel values (SEP-2243) decode to UTF-8; plain values stand for themselves. */
export function decodeHeaderValue(v: string): string | undefined {
  if (!(v.startsWith('=?base64?') && v.endsWith('?='))) return v;
  const b64 = v.slice(9, -2);
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) return undefined;
  try {
    return utf8.decode(Buffer.from(b64, 'base64'));
  } catch {
    return undefined;
  }
}

/** `Mcp-Method` and `Mcp-Name`, when sent, must agree with the body (intermediaries route on them). */
function checkStandardHeaders(messages: readonly JsonRpcMessage[], batch: boolean, input: ParseInput): void {
  if (input.mcpMethod === undefined && input.mcpName === undefined) return;
  if (batch) throw refuse(JsonRpcCode.InvalidRequest, 'Mcp-Method and Mcp-Name describe one message; a batch cannot carry them');
  const m = messages[0]!;
  if (input.mcpMethod !== undefined && stripOws(input.mcpMethod) !== m.method) throw refuse(JsonRpcCode.InvalidRequest, 'the Mcp-Method header does not match the body');
  if (input.mcpName !== undefined) {
    const field = m.method !== undefined && Object.hasOwn(MCP_NAME_SOURCE, m.method) ? MCP_NAME_SOURCE[m.method] : undefined;
    const bodyValue = field ? m.params?.[field] : undefined;
    const decoded = decodeHeaderValue(stripOws(input.mcpName));
    if (decoded === undefined || typeof bodyValue !== 'string' || decoded !== bodyValue) throw refuse(JsonRpcCode.InvalidRequest, 'the Mcp-Name header does not match the body');
  }
}

/**
 * A second, independent parse (an AST, not JSON.parse) that refuses duplicate object keys anywhere, non-finite
 * numbers (1e999 would be re-serialised as null) and nesting deeper than `maxDepth`.
 */
function checkStructure(text: string, maxDepth: number): void {
  let root: AnyNode;
  try {
    root = parseJsonAst(text, { mode: 'json' }).body;
  } catch {
    throw refuse(JsonRpcCode.ParseError, 'Parse error: invalid JSON');
  }
  const stack: Array<[AnyNode, number]> = [[root, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node.type === 'Object') {
      if (depth > maxDepth) throw refuse(JsonRpcCode.InvalidRequest, `Invalid Request: nested deeper than ${maxDepth}`);
      const seen = new Set<string>();
      for (const member of node.members) {
        const key = member.name.type === 'String' ? member.name.value : member.name.name;
        if (seen.has(key)) throw refuse(JsonRpcCode.InvalidRequest, `Invalid Request: duplicate key "${key.slice(0, 40)}"`);
        seen.add(key);
        stack.push([member.value, depth + 1]);
      }
    } else if (node.type === 'Array') {
      if (depth > maxDepth) throw refuse(JsonRpcCode.InvalidRequest, `Invalid Request: nested deeper than ${maxDepth}`);
      for (const el of node.elements) stack.push([el.value, depth + 1]);
    } else if (node.type === 'Number' && !Number.isFinite(node.value)) {
      throw refuse(JsonRpcCode.InvalidRequest, 'Invalid Request: a number is out of range');
    }
  }
}
