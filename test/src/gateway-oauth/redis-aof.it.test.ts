// A Redis restart with AOF loses no grant: a private redis-server (appendonly, fsync always) behind a
// private gateway process; sign in, restart Redis, and the tokens still work and refresh.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { startStandaloneRedis, type StandaloneRedis } from '../stack/components/redis.js';
import { launchBrowser } from '../support/browser-login.js';
import { startGatewayProcess, type GatewayProcess } from '../support/oauth-gateway-process.js';
import { browserAuthorization, exchangeCode, mcpInitialize, refreshTokens, type TokenSet } from '../support/oauth-flow.js';

let env: StackEnv;
let browser: Browser;
let dir: string;
let redis: StandaloneRedis;
let gateway: GatewayProcess;

beforeAll(async () => {
  env = loadStackEnv();
  dir = mkdtempSync(path.join(os.tmpdir(), 'kmg-aof-'));
  redis = await startStandaloneRedis({ dir: path.join(dir, 'redis'), aof: true, logFile: path.join(dir, 'redis.log') });
  gateway = await startGatewayProcess(() => undefined, { REDIS_URL: redis.url });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('grants in Redis with AOF', () => {
  it('survive a Redis restart: the access token is still accepted and the refresh token still rotates', async () => {
    const issuer = gateway.issuer;
    const a = await browserAuthorization(browser, issuer, { username: 'alice', password: env.ALICE_PASSWORD, consent: 'approve' });
    await a.redirect.close();
    const t = await exchangeCode(issuer, { clientId: a.clientId, code: a.response.code!, verifier: a.verifier, redirectUri: a.redirect.url });
    expect(t.status).toBe(200);
    const tokens = t.body as unknown as TokenSet;

    await redis.stop();
    redis = await startStandaloneRedis({ dir: path.join(dir, 'redis'), aof: true, port: redis.port, logFile: path.join(dir, 'redis.log') });

    // ioredis reconnects on its own; give it a moment, then the grant must still be there.
    let res = await mcpInitialize(`${issuer}/mcp`, tokens.access_token);
    for (let i = 0; i < 20 && res.status >= 500; i++) {
      await res.body?.cancel();
      await new Promise((r) => setTimeout(r, 250));
      res = await mcpInitialize(`${issuer}/mcp`, tokens.access_token);
    }
    await res.body?.cancel();
    expect(res.status).not.toBe(401);
    const r = await refreshTokens(issuer, a.clientId, tokens.refresh_token);
    expect(r.status).toBe(200);
    expect((r.body as unknown as TokenSet).access_token).toMatch(/^mcp_at\./);
  });
});
