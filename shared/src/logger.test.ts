import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { REDACTED_PATHS, traceMixin } from './logger.js';
import { traceContextFrom, withTrace } from './ops/trace.js';

describe('logger', () => {
  it('stamps log lines written during a request with its request and trace ids', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) });
    const logger = pino({ mixin: traceMixin, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, sink);
    const ctx = traceContextFrom({ 'x-request-id': 'req-abcdef12' });
    withTrace(ctx, () => logger.info({ authorization: 'Bearer secret' }, 'inside'));
    logger.info('outside');
    const [inside, outside] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(inside).toMatchObject({ msg: 'inside', requestId: 'req-abcdef12', traceId: ctx.traceId, authorization: '[redacted]' });
    expect(outside?.requestId).toBeUndefined();
  });
});
