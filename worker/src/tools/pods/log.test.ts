import { describe, expect, it } from 'vitest';
import { grepLines, parseDuration } from './log.js';

describe('pods_log helpers', () => {
  it('greps, then keeps the last N matches', () => {
    const text = ['ok 1', 'ERROR a', 'ok 2', 'error b', 'ERROR c', ''].join('\n');
    expect(grepLines(text, /error/i, 2)).toEqual({ lines: ['error b', 'ERROR c'], matched: 3 });
    expect(grepLines(text, undefined, 2).lines).toEqual(['error b', 'ERROR c']);
  });

  it('reads durations like kubectl --since', () => {
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('15m')).toBe(900);
    expect(parseDuration('2h')).toBe(7200);
    expect(() => parseDuration('soon')).toThrow(/since must look like/);
  });
});
