// SIGTERM during a tool call: the gateway process lets the call finish, then closes the MCP path (issue 13: createApp
// returns close(), main.ts runs it in the shutdown sequence), so the call's audit line is in the file sink.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort } from '../stack/component.js';
import { loadStackEnv, repoRoot, type StackEnv } from '../stack/env.js';
import { userToken } from '../support/keycloak-tokens.js';
import { waitFor } from '../worker/helpers.js';
import { tapWorker, type Tap } from './harness.js';
import { readAuditLines } from '../support/audit-lines.js';

let env: StackEnv;
let tap: Tap;
let dir = '';
let child: ChildProcess | undefined;

beforeAll(async () => {
  env = loadStackEnv();
  tap = await tapWorker(env.WORKER_URLS![0]!);
  dir = mkdtempSync(path.join(tmpdir(), 'kmg-shutdown-it-'));
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await tap?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SIGTERM during a call', () => {
  it('finishes the call, then flushes its audit line to the file before exiting 0', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const auditFile = path.join(dir, 'audit.jsonl');
    const issuer = env.KEYCLOAK_ISSUER;
    const config = {
      publicUrl: base,
      logLevel: 'warn',
      storage: { redis: { url: env.REDIS_URL, keyPrefix: `kmg-shutdown-${randomBytes(4).toString('hex')}:` } },
      encryptionKeys: [{ id: 'it', key: randomBytes(32).toString('base64') }],
      audit: { destination: auditFile },
      ops: { shutdown: { timeoutSeconds: 30, drainDelaySeconds: 0 } },
      orgs: [
        {
          name: 'rs',
          mode: 'resource-server',
          resourceServer: { issuer, audience: [env.GATEWAY_CLIENT_ID], caFile: env.STACK_CA_FILE },
          exchange: { tokenEndpoint: `${issuer}/protocol/openid-connect/token`, clientId: env.GATEWAY_CLIENT_ID, clientSecret: env.GATEWAY_CLIENT_SECRET, caFile: env.STACK_CA_FILE },
          clusters: [{ name: 'stack', workers: [tap.url], audience: env.KUBE_AUDIENCE }],
          policy: { readScope: 'openid', writeScope: 'openid' },
        },
      ],
    };
    const file = path.join(dir, 'gateway.yaml');
    writeFileSync(file, stringify(config), { mode: 0o600 });
    child = spawn(process.execPath, [path.join(repoRoot, 'gateway', 'dist', 'main.js'), '--config', file, '--port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    await waitFor('the gateway to listen', async () => {
      if (child!.exitCode !== null) throw new Error(`gateway exited: ${stderr}`);
      return fetch(`${base}/healthz`).then((r) => r.ok, () => false);
    }, 30_000);
    const token = (await userToken(env, 'alice')).access_token;
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-06-18' };
    // Learn the catalog first, so the held call is the only request in flight.
    await fetch(`${base}/orgs/rs/mcp`, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });

    tap.holdToolCallsMs = 2000;
    tap.bodies.length = 0;
    const call = fetch(`${base}/orgs/rs/mcp`, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'whoami', arguments: {} } }) });
    await waitFor('the call to reach the worker', async () => tap.bodies.some((b) => b.includes('"tools/call"')), 10_000);
    child.kill('SIGTERM');
    const res = await call;
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('alice');
    expect(await exited).toBe(0);
    const lines = readAuditLines(auditFile);
    expect(lines.filter((l) => l.tool === 'whoami')).toEqual([expect.objectContaining({ event: 'tool_call', user: 'alice', outcome: 'ok', status: 200, cluster: 'stack' })]);
  }, 60_000);
});
