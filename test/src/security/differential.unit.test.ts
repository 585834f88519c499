// Parser differential, unit: the real gateway app (OAuth facade with a fake IdP, in-memory store) in front of the
// real worker HTTP server (its SDK parses the body) in front of a fake apiserver that records what was executed.
// The caller's token has only mcp:tools:read. For every dressing of a pods_delete: the delete never reaches the
// apiserver, a refusal (4xx) executes nothing, and every tool the worker did run was seen and audited by the gateway.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dressings, callText, type Target } from './dressings.js';
import { rawRequest, type RawResponse } from './send.js';
import { startUnitStack, type UnitStack } from './unit-stack.js';
import { readAuditLines } from '../support/audit-lines.js';

const T: Target = { tool: 'pods_delete', namespace: 'team-a', pod: 'victim' };
const auditFile = path.join(mkdtempSync(path.join(tmpdir(), 'kmg-diff-')), 'audit.jsonl');
let stack: UnitStack;

beforeAll(async () => {
  stack = await startUnitStack({ namespace: T.namespace, auditFile, logLevel: process.env.KMG_DIFF_LOG ?? 'silent' });
});

afterAll(async () => {
  await stack?.close();
});

function auditedTools(): string[] {
  // Whole lines only: the gateway may be appending one as this reads (a CI run once parsed half a line).
  return readAuditLines(auditFile).map((l) => String(l.tool));
}

/** Audit lines are written when the response closes; waits (bounded) until `n` lines exist. */
async function auditCount(n: number): Promise<number> {
  for (let i = 0; i < 50 && auditedTools().length < n; i++) await new Promise((r) => setTimeout(r, 20));
  return auditedTools().length;
}

/** What the apiserver was asked to do while `fn` ran: the worker's executions. */
async function executed(fn: () => Promise<RawResponse>): Promise<{ res: RawResponse; deletes: number; reads: number; audited: string[] }> {
  const before = stack.api.requests.length;
  const auditBefore = auditedTools().length;
  const res = await fn();
  const seen = stack.api.requests.slice(before).filter((r) => r.url.includes(`/namespaces/${T.namespace}/pods`));
  const deletes = seen.filter((r) => r.method === 'DELETE').length;
  const reads = seen.filter((r) => r.method === 'GET').length;
  await auditCount(auditBefore + deletes + reads);
  return { res, deletes, reads, audited: auditedTools().slice(auditBefore) };
}

const send = (token: string, headers: Record<string, string | string[]>, body: Buffer | string) =>
  rawRequest(stack.mcpUrl, { headers: { ...headers, authorization: `Bearer ${token}` }, body });

const plainHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };

describe('the differential harness can see an execution', () => {
  it('a plain pods_list from the read-only token runs, and the gateway audits it', async () => {
    const r = await executed(() => send(stack.tokens.read, plainHeaders, callText(T, 'pods_list')));
    expect(r.res.status, r.res.text).toBe(200);
    expect(r.reads, r.res.text).toBe(1);
    expect(r.audited).toContain('pods_list');
  });

  it('a plain pods_delete from a token with mcp:tools:write reaches the apiserver as a DELETE', async () => {
    const r = await executed(() => send(stack.tokens.write, plainHeaders, callText(T)));
    expect(r.res.status, r.res.text).toBe(200);
    expect(r.deletes, r.res.text).toBe(1);
    expect(r.audited).toContain('pods_delete');
  });
});

describe('every dressing of a pods_delete from a token with only mcp:tools:read', () => {
  const rows = dressings(T);
  it('the table has at least 30 dressings', () => {
    expect(rows.length).toBeGreaterThanOrEqual(30);
    expect(new Set(rows.map((d) => d.name)).size).toBe(rows.length);
  });

  for (const d of rows) {
    it(`refuses or decides consistently: ${d.name}`, async () => {
      const r = await executed(() => send(stack.tokens.read, d.headers, d.body));
      // The gateway's policy refuses pods_delete to this token, so the worker must never run it.
      expect(r.deletes, `${r.res.status} ${r.res.text.slice(0, 300)}`).toBe(0);
      // A refused request runs nothing at all.
      if (r.res.status >= 400) expect(r.reads, r.res.text.slice(0, 300)).toBe(0);
      // Whatever the worker did run, the gateway saw and audited as that tool (no call passes unseen).
      for (let i = 0; i < r.reads; i++) expect(r.audited).toContain('pods_list');
      expect(r.res.status).toBeLessThan(500);
    });
  }
});
