import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool, READ, WRITE } from './define.js';
import { ALL_TOOLS, buildRegistry } from './index.js';

describe('tool registry', () => {
  it('registers every tool once', () => {
    expect(buildRegistry().size).toBe(ALL_TOOLS.length);
  });

  it('throws on a duplicate tool name', () => {
    const t = defineTool({ name: 'x_get', title: 'X', description: 'x', input: z.object({}), annotations: READ, run: async () => ({ text: '' }) });
    expect(() => buildRegistry([t, t] as never)).toThrow('duplicate tool name x_get');
  });

  it('throws on a write tool without dryRun', () => {
    const t = defineTool({ name: 'x_set', title: 'X', description: 'x', input: z.object({}), annotations: WRITE, run: async () => ({ text: '' }) });
    expect(() => buildRegistry([t] as never)).toThrow('write tool x_set has no dryRun argument');
  });
});
