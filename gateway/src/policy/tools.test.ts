import { describe, expect, it } from 'vitest';
import type { Principal } from '../auth/principal.js';
import { policySchema } from '../config/mcp.js';
import { decideTool, filterTools } from './tools.js';

const read = { name: 'pods_list', annotations: { readOnlyHint: true } };
const write = { name: 'pods_delete', annotations: { readOnlyHint: false, destructiveHint: true } };
const who = (scopes: string[]): Principal => ({ org: 'o', sub: 's', username: 'u', groups: [], clientId: 'c', scopes, expiresAt: 0, mode: 'gateway' });

describe('tool policy', () => {
  it('needs mcp:tools:write for a tool not marked read-only, naming the scope', () => {
    expect(decideTool(write.name, write, who(['mcp:tools:read']), policySchema.parse({}))).toMatchObject({ allowed: false, reason: 'insufficient_scope', scope: 'mcp:tools:write' });
    expect(decideTool(write.name, write, who(['mcp:tools:read', 'mcp:tools:write']), policySchema.parse({}))).toEqual({ allowed: true });
  });

  it('treats a tool without annotations as a write tool', () => {
    expect(decideTool('mystery', undefined, who(['mcp:tools:read']), policySchema.parse({}))).toMatchObject({ allowed: false, scope: 'mcp:tools:write' });
  });

  it('offers no write tool in a read-only org, whatever the scopes', () => {
    const all = who(['mcp:tools:read', 'mcp:tools:write']);
    expect(filterTools([read, write], all, policySchema.parse({ readOnly: true })).map((t) => t.name)).toEqual(['pods_list']);
  });

  it('applies deny before allow lists and extra per-tool scopes', () => {
    const all = who(['mcp:tools:read', 'mcp:tools:write']);
    expect(decideTool('pods_list', read, all, policySchema.parse({ denyTools: ['pods_list'] }))).toMatchObject({ allowed: false, reason: 'not_offered' });
    expect(decideTool('pods_delete', write, all, policySchema.parse({ allowTools: ['pods_list'] }))).toMatchObject({ allowed: false, reason: 'not_offered' });
    expect(decideTool('pods_list', read, all, policySchema.parse({ toolScopes: { pods_list: 'audit:read' } }))).toMatchObject({ allowed: false, scope: 'audit:read' });
  });
});
