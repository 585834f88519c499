import { describe, expect, it } from 'vitest';
import { toolErrorIn } from './forward.js';

describe('the tool-error flag for the audit', () => {
  const ids = new Set([7]);
  it('comes from the parsed result of the call, JSON or SSE', () => {
    expect(toolErrorIn(JSON.stringify({ jsonrpc: '2.0', id: 7, result: { content: [], isError: true } }), 'application/json', ids)).toBe(true);
    expect(toolErrorIn(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 7, result: { isError: true } })}\n\n`, 'text/event-stream', ids)).toBe(true);
  });
  it('is not raised by tool output that merely contains "isError":true (a ConfigMap in structuredContent)', () => {
    const answer = JSON.stringify({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'ok' }], structuredContent: { items: [{ data: { isError: true } }] } } });
    expect(answer).toContain('"isError":true');
    expect(toolErrorIn(answer, 'application/json', ids)).toBe(false);
  });
  it('ignores results for other ids and answers that do not parse', () => {
    expect(toolErrorIn(JSON.stringify({ jsonrpc: '2.0', id: 8, result: { isError: true } }), 'application/json', ids)).toBe(false);
    expect(toolErrorIn('{"isError":true', 'application/json', ids)).toBe(false);
  });
});
