import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { processStartTime } from '../stack/component.js';
import { AlreadyRunningError, claimInstance } from './instance.js';

describe('npm start: one per checkout', () => {
  it('refuses a second start while the first runs, naming its pid and MCP URL', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kmg-instance-'));
    // The first npm start: another live process.
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    await new Promise((r) => other.once('spawn', r));
    try {
      const first = claimInstance(dir, other.pid!);
      first.setMcpUrl('http://127.0.0.1:8080/mcp');
      let err: unknown;
      try {
        claimInstance(dir);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AlreadyRunningError);
      expect((err as Error).message).toBe(
        `npm start is already running in this checkout (pid ${other.pid}, serving http://127.0.0.1:8080/mcp); use that one, or stop it (Ctrl-C in its terminal, or kill ${other.pid}) and run npm start again`,
      );
      // The refused start did not take the record away from the running one.
      expect(JSON.parse(readFileSync(path.join(dir, 'instance.json'), 'utf8')).pid).toBe(other.pid);
    } finally {
      other.kill();
    }
  });

  it('takes over the record of a run that was killed, and removes its own on release', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kmg-instance-'));
    // A pid that is alive but started at another time is a reused pid, not the old npm start.
    writeFileSync(path.join(dir, 'instance.json'), JSON.stringify({ pid: process.pid, startTime: `${processStartTime(process.pid)}0` }));
    const claim = claimInstance(dir, process.pid);
    expect(claim.tookOverStale).toBe(true);
    claim.release();
    expect(existsSync(path.join(dir, 'instance.json'))).toBe(false);
  });
});
