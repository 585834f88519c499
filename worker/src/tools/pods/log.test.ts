import { describe, expect, it } from 'vitest';
import { capNewest, grepEntries, grepWindowText, mergeLogs, parseDuration, splitStamp } from './log-read.js';

describe('pods_log helpers', () => {
  it('greps, then keeps the last N matches', () => {
    const entries = ['ok 1', 'ERROR a', 'ok 2', 'error b', 'ERROR c'].map((text) => ({ text }));
    expect(grepEntries(entries, /error/i, 2)).toEqual({ entries: [{ text: 'error b' }, { text: 'ERROR c' }], matched: 3, scanned: 5 });
    expect(grepEntries(entries, undefined, 2).entries.map((e) => e.text)).toEqual(['error b', 'ERROR c']);
  });

  it('greps the message, not the timestamp the worker asked for', () => {
    const e = splitStamp('2026-01-01T00:00:02.5Z ERROR boom');
    expect(e).toEqual({ time: '2026-01-01T00:00:02.5Z', text: 'ERROR boom' });
    expect(grepEntries([e], /^ERROR/, 10).matched).toBe(1);
    expect(splitStamp('no stamp here')).toEqual({ text: 'no stamp here' });
  });

  it('states the window a grep searched', () => {
    const w = {};
    expect(grepWindowText([{ matched: 12, scanned: 20_000 }], w)).toBe('matched 12 of the last 20,000 lines');
    expect(grepWindowText([{ matched: 3, scanned: 340 }], { since: '10m' })).toBe('matched 3 of all 340 lines of the last 10m');
    expect(grepWindowText([{ matched: 3, scanned: 340 }, { matched: 2, scanned: 20_000 }], w)).toBe('matched 5 of 20,340 lines read from 2 logs (the last 20,000 lines of each at most)');
  });

  it('merges logs by time, stable within a log, prefixed with their source', () => {
    const lines = mergeLogs(
      [
        { prefix: 'web-1/app', entries: [{ time: '2026-01-01T00:00:01Z', text: 'a1' }, { time: '2026-01-01T00:00:03Z', text: 'a3' }] },
        { prefix: 'web-2/app', entries: [{ time: '2026-01-01T00:00:02.5Z', text: 'b2' }, { time: '2026-01-01T00:00:03Z', text: 'b3' }] },
      ],
      false,
    );
    expect(lines).toEqual(['[web-1/app] a1', '[web-2/app] b2', '[web-1/app] a3', '[web-2/app] b3']);
    expect(mergeLogs([{ prefix: 'p/c', entries: [{ time: '2026-01-01T00:00:01Z', text: 'x' }] }], true)).toEqual(['[p/c] 2026-01-01T00:00:01Z x']);
  });

  it('keeps the newest whole lines within the byte cap', () => {
    expect(capNewest('old line\nmid line\nnew line', 17)).toEqual({ text: 'mid line\nnew line', capped: true });
    expect(capNewest('old line\nmid line\nnew line', 16)).toEqual({ text: 'new line', capped: true });
    expect(capNewest('short', 100)).toEqual({ text: 'short', capped: false });
  });

  it('reads durations like kubectl --since', () => {
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('15m')).toBe(900);
    expect(parseDuration('2h')).toBe(7200);
    expect(() => parseDuration('soon')).toThrow(/since must look like/);
  });
});
