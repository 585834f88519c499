import { describe, expect, it } from 'vitest';
import { lineDiff } from './diff.js';

describe('lineDiff', () => {
  it('shows removed and added lines with context, and elides the rest', () => {
    const before = ['a', 'b', 'c', 'image: web:1', 'd', 'e', 'f', 'g'].join('\n');
    const after = ['a', 'b', 'c', 'image: web:2', 'd', 'e', 'f', 'g'].join('\n');
    expect(lineDiff(before, after, 1)).toBe(['  ...', '  c', '- image: web:1', '+ image: web:2', '  d', '  ...'].join('\n'));
  });

  it('says when nothing changed', () => {
    expect(lineDiff('x\ny', 'x\ny')).toBe('(no changes)');
  });
});
