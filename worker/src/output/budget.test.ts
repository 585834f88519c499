import { describe, expect, it } from 'vitest';
import { applyByteBudget } from './budget.js';

describe('byte budget', () => {
  it('leaves output under the budget untouched', () => {
    expect(applyByteBudget('short', 100, 'hint')).toEqual({ text: 'short', truncated: false });
  });

  it('cuts at a line boundary, stays within the budget and says how to get the rest', () => {
    const text = Array.from({ length: 500 }, (_, i) => `line ${i} ${'é'.repeat(10)}`).join('\n');
    const out = applyByteBudget(text, 2048, 'pass continue="abc"');
    expect(out.truncated).toBe(true);
    expect(Buffer.byteLength(out.text)).toBeLessThanOrEqual(2048);
    expect(out.text).toMatch(/line \d+ é{10}\n\[truncated: the output was \d+ bytes, over this worker's 2048-byte budget\. pass continue="abc"\]$/);
  });
});
