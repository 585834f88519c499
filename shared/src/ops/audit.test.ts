import { mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditConfigFromDestination, auditConfigSchema, auditLine, createAuditSink } from './audit.js';
import { traceContextFrom, withTrace } from './trace.js';

describe('audit records', () => {
  it('writes one JSON line with time and type, never argument values or credentials', () => {
    const line = auditLine(
      {
        event: 'tool_call', org: 'acme', user: 'alice', client: 'claude', tool: 'resources_get', cluster: 'prod', namespace: 'team-a',
        outcome: 'ok', durationMs: 12, groups: ['k8s-admins'],
        // Deliberately unsafe extras a careless caller might pass:
        access_token: 'eyJ.secret', arguments: 'name=db-password', clientSecret: 's3cr3t',
        ...({ args: { name: 'x' } } as unknown as Record<string, string>),
      },
      new Date('2026-01-02T03:04:05Z'),
    );
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({
      time: '2026-01-02T03:04:05.000Z', type: 'audit', event: 'tool_call', org: 'acme', user: 'alice', client: 'claude',
      tool: 'resources_get', cluster: 'prod', namespace: 'team-a', outcome: 'ok', durationMs: 12, groups: ['k8s-admins'],
    });
  });

  it('fills request and trace ids from the request being handled', () => {
    const ctx = traceContextFrom({ 'x-request-id': 'req-00009' });
    const rec = JSON.parse(withTrace(ctx, () => auditLine({ event: 'tool_call' })));
    expect(rec).toMatchObject({ requestId: 'req-00009', traceId: ctx.traceId });
  });

  it('appends to a file destination and reopens it on SIGHUP after rotation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmg-audit-'));
    const path = join(dir, 'nested', 'audit.jsonl');
    const sink = createAuditSink(auditConfigSchema.parse({ sink: 'file', path }));
    sink.write({ event: 'tool_call', tool: 'pods_list', outcome: 'ok' });
    await new Promise((r) => setTimeout(r, 50));
    renameSync(path, `${path}.1`);
    // What logrotate does after moving the file.
    process.emit('SIGHUP', 'SIGHUP');
    sink.write({ event: 'tool_call', tool: 'pods_delete', outcome: 'denied' });
    await sink.close();
    expect(JSON.parse(readFileSync(`${path}.1`, 'utf8')).tool).toBe('pods_list');
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).tool)).toEqual(['pods_delete']);
  });

  it('rejects a file sink without a path, naming the key', () => {
    const result = auditConfigSchema.safeParse({ sink: 'file' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['path']);
  });

  it('writes nothing when off', async () => {
    const sink = createAuditSink({ sink: 'off' });
    expect(() => sink.write({ event: 'tool_call' })).not.toThrow();
    await sink.close();
  });

  it('reads the one-string destination form used in config files', () => {
    expect(auditConfigFromDestination('stdout')).toEqual({ sink: 'stdout' });
    expect(auditConfigFromDestination('off')).toEqual({ sink: 'off' });
    expect(auditConfigFromDestination('/var/log/kmg/audit.jsonl')).toEqual({ sink: 'file', path: '/var/log/kmg/audit.jsonl' });
  });
});
