import { describe, expect, it } from 'vitest';
import { bytes, fmtCpu, fmtMem, millicores, pct } from './quantity.js';

describe('quantities', () => {
  it('reads CPU in nanocores, millicores and cores', () => {
    expect(millicores('250000000n')).toBeCloseTo(250);
    expect(millicores('100m')).toBeCloseTo(100);
    expect(millicores('2')).toBe(2000);
    expect(millicores('1.5')).toBe(1500);
  });

  it('reads memory with binary, decimal and no suffixes', () => {
    expect(bytes('64Mi')).toBe(64 * 2 ** 20);
    expect(bytes('1Gi')).toBe(2 ** 30);
    expect(bytes('1G')).toBe(1e9);
    expect(bytes('2048Ki')).toBe(2 * 2 ** 20);
    expect(bytes('1e3')).toBe(1000);
    expect(bytes('12XYZ')).toBeNaN();
  });

  it('formats like kubectl top', () => {
    expect(fmtCpu(12.4)).toBe('12m');
    expect(fmtMem(64 * 2 ** 20)).toBe('64Mi');
    expect(pct(50, 200)).toBe('25%');
    expect(pct(50, 0)).toBe('-');
  });
});
