// Gateway-issued tokens for the chaos scenarios (org `gw`, the OAuth facade): a real sign-in (Chromium at Keycloak,
// consent at the gateway) through the load balancer, and the raw /token and MCP requests a scenario storms or
// probes with, keeping status and Retry-After whatever the body is.
import type { Browser } from 'playwright-core';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { launchBrowser } from '../support/browser-login.js';
import { Load } from './load.js';
import type { ScenarioOptions } from './scenario.js';
import { startTopology, type Topology, type TopologyOptions } from './topology.js';
import { passwordOf, type StackUser } from '../support/keycloak-tokens.js';
import { browserAuthorization, exchangeCode, type TokenSet } from '../support/oauth-flow.js';
import { MODERN_REVISION } from '../worker/helpers.js';

export interface FacadeGrant {
  user: StackUser;
  clientId: string;
  tokens: TokenSet;
}

export interface Answer {
  /** HTTP status, or 0 when no answer came (connection refused or reset, timeout). */
  status: number;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

/** One user signs in to org `gw` with a client of its own (registered on the spot): one grant, one refresh family. */
export async function signIn(browser: Browser, env: StackEnv, issuer: string, user: StackUser): Promise<FacadeGrant> {
  const a = await browserAuthorization(browser, issuer, { username: user, password: passwordOf(env, user), consent: 'approve' });
  await a.redirect.close();
  if (!a.response.code) throw new Error(`sign-in of ${user} at ${issuer} returned ${a.response.error ?? 'no code'}`);
  const t = await exchangeCode(issuer, { clientId: a.clientId, code: a.response.code, verifier: a.verifier, redirectUri: a.redirect.url });
  if (t.status !== 200) throw new Error(`code exchange for ${user}: ${t.status} ${JSON.stringify(t.body)}`);
  return { user, clientId: a.clientId, tokens: t.body as unknown as TokenSet };
}

async function answer(res: Promise<Response>): Promise<Answer> {
  try {
    const r = await res;
    const text = await r.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { text: text.slice(0, 200) };
    }
    return { status: r.status, retryAfter: r.headers.get('retry-after'), body };
  } catch (err) {
    return { status: 0, retryAfter: null, body: { error: String((err as Error).cause ?? err) } };
  }
}

/** POST {issuer}/token with grant_type=refresh_token (a public client). */
export function refreshAt(issuer: string, clientId: string, refreshToken: string): Promise<Answer> {
  return answer(
    fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken }),
      signal: AbortSignal.timeout(30_000),
    }),
  );
}

/** A whoami at an MCP URL with a bearer token and no session (answered statelessly): the status says what the gateway decided. */
export function mcpWhoami(mcpUrl: string, accessToken: string): Promise<Answer> {
  return answer(
    fetch(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${accessToken}`, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
      signal: AbortSignal.timeout(30_000),
    }),
  );
}

/** tools/list at an MCP URL with a bearer token and no session: authenticated, rate-limited and answered by the gateway. */
export function mcpToolsList(mcpUrl: string, accessToken: string): Promise<Answer> {
  return answer(
    fetch(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${accessToken}`, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      signal: AbortSignal.timeout(30_000),
    }),
  );
}

/** A real SDK client (2025-06-18 session, or 2026-07-28 stateless) calling whoami with a gateway-issued token. */
export async function sdkWhoami(mcpUrl: string, accessToken: string, modern: boolean): Promise<string> {
  const client = new Client({ name: 'chaos-facade', version: '0.0.0' }, modern ? { versionNegotiation: { mode: { pin: MODERN_REVISION } } } : {});
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { authorization: `Bearer ${accessToken}` } } }));
  try {
    const res = await client.callTool({ name: 'whoami', arguments: {} }, { timeout: 30_000 });
    if (res.isError) throw new Error(`whoami: tool error ${JSON.stringify(res.content).slice(0, 200)}`);
    return JSON.stringify(res.content);
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * Like common.ts's withRig, with sign-ins to org `gw` first: the users sign in (Chromium) before the SDK load starts,
 * so a loaded machine does not time the browser out, and the browser is closed before the fault.
 */
export async function withFacadeRig<T>(
  opts: ScenarioOptions,
  load: { longCallSeconds: number; pauseMs: number },
  topology: TopologyOptions,
  users: StackUser[],
  body: (rig: { env: StackEnv; topo: Topology; load: Load; grants: FacadeGrant[] }) => Promise<T>,
): Promise<T> {
  const env = loadStackEnv();
  const topo = await startTopology(env, topology);
  try {
    const grants: FacadeGrant[] = [];
    const browser = await launchBrowser();
    try {
      for (const u of users) grants.push(await signIn(browser, env, topo.gwIssuer, u));
    } finally {
      await browser.close().catch(() => undefined);
    }
    const l = new Load({ env, url: topo.mcpUrl, clients: opts.clients, ...load, report: opts.report });
    try {
      await l.start();
      return await body({ env, topo, load: l, grants });
    } finally {
      await l.stop().catch(() => undefined);
    }
  } finally {
    await topo.stop();
  }
}
