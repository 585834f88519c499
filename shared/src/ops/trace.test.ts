import { describe, expect, it } from 'vitest';
import { currentTrace, formatTraceparent, parseTraceparent, traceContextFrom, traceHeaders, withTrace } from './trace.js';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('W3C traceparent', () => {
  it('parses the example from the specification', () => {
    expect(parseTraceparent(VALID)).toEqual({ version: '00', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', flags: '01' });
  });

  it.each([
    ['all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['all-zero parent id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['upper-case hex', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01'],
    ['short trace id', '00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01'],
    ['extra field on version 00', `${VALID}-extra`],
    ['garbage', 'hello'],
  ])('rejects %s', (_name, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });

  it('accepts extra fields from a future version', () => {
    expect(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future')?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });
});

describe('request trace context', () => {
  it('continues the caller trace with a new span and forwards it to the next hop', () => {
    const ctx = traceContextFrom({ traceparent: VALID, tracestate: 'vendor=1', 'x-request-id': 'req-12345' });
    expect(ctx.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(ctx.parentSpanId).toBe('00f067aa0ba902b7');
    expect(ctx.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(ctx.spanId).not.toBe('00f067aa0ba902b7');
    expect(ctx.requestId).toBe('req-12345');
    expect(traceHeaders(ctx)).toEqual({
      traceparent: formatTraceparent(ctx.traceId, ctx.spanId, '01'),
      'x-request-id': 'req-12345',
      tracestate: 'vendor=1',
    });
  });

  it('starts a new trace and request id when the caller sent none or junk', () => {
    const ctx = traceContextFrom({ traceparent: 'junk', tracestate: 'vendor=1', 'x-request-id': 'bad id with spaces\n' });
    expect(ctx.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(ctx.parentSpanId).toBeUndefined();
    expect(ctx.tracestate).toBeUndefined();
    expect(ctx.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(parseTraceparent(traceHeaders(ctx).traceparent)).toBeDefined();
  });

  it('makes the trace available to code running inside the request', async () => {
    const ctx = traceContextFrom({});
    const seen = await withTrace(ctx, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return currentTrace()?.requestId;
    });
    expect(seen).toBe(ctx.requestId);
    expect(currentTrace()).toBeUndefined();
  });
});
