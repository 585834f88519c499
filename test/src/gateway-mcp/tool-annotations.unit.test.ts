// The gateway decides on the annotations the worker's tools/list carries: run the worker's real catalog
// through the gateway's tool policy, so a write that can destroy (scale, patch, apply) is never offered as a read.
import { policySchema } from '@kmg/gateway/config/mcp';
import { decideTool, filterTools } from '@kmg/gateway/policy/tools';
import { toolDefinition } from '@kmg/worker/server';
import { ALL_TOOLS } from '@kmg/worker/tools/index';
import { describe, expect, it } from 'vitest';

const catalog = ALL_TOOLS.map(toolDefinition);
const principal = (scopes: string[]) => ({ org: 'o', sub: 's', username: 'u', groups: [], clientId: 'c', scopes, expiresAt: 0, mode: 'gateway' as const });
const CAN_DESTROY = ['resources_scale', 'resources_patch', 'resources_create_or_update', 'resources_delete', 'pods_delete', 'helm_rollback', 'pods_debug'];

describe("the gateway's policy on the worker's annotations", () => {
  it('marks scale, patch and apply as writes that can destroy', () => {
    for (const name of CAN_DESTROY) expect(catalog.find((t) => t.name === name)?.annotations, name).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    // No tool claims both: a destructive tool is never a read.
    expect(catalog.filter((t) => t.annotations?.readOnlyHint && t.annotations.destructiveHint)).toEqual([]);
  });

  it('offers none of them to a read-only organisation, and asks for the write scope otherwise', () => {
    const all = principal(['mcp:tools:read', 'mcp:tools:write']);
    const offered = filterTools(catalog, all, policySchema.parse({ readOnly: true })).map((t) => t.name);
    for (const name of CAN_DESTROY) expect(offered).not.toContain(name);
    expect(offered).toContain('pods_list');
    for (const name of CAN_DESTROY) {
      expect(decideTool(name, catalog.find((t) => t.name === name), principal(['mcp:tools:read']), policySchema.parse({}))).toMatchObject({ allowed: false, reason: 'insufficient_scope', scope: 'mcp:tools:write' });
    }
  });
});
