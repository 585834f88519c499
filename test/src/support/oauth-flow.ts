// Raw OAuth steps against a gateway (no SDK), for the negative cases: register, authorize in Chromium,
// exchange a code, refresh, revoke, and call the MCP URL with a bearer token.
import { createHash, randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { browserLogin, type BrowserLoginOptions } from './browser-login.js';
import { LoopbackRedirect, type AuthorizationResponse } from './oauth-client-provider.js';

export interface TokenSet {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  scope: string;
}

export function newPkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export async function registerPublicClient(issuer: string, redirectUri: string, name = 'kmg raw test client'): Promise<string> {
  const res = await fetch(`${issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', client_name: name }),
  });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { client_id: string }).client_id;
}

export function authorizeUrl(issuer: string, p: { clientId: string; redirectUri: string; challenge: string; state: string; scope?: string; resource?: string }): URL {
  const u = new URL(`${issuer}/authorize`);
  const q: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: p.clientId,
    redirect_uri: p.redirectUri,
    code_challenge: p.challenge,
    code_challenge_method: 'S256',
    state: p.state,
    scope: p.scope,
    resource: p.resource,
  };
  for (const [k, v] of Object.entries(q)) if (v !== undefined) u.searchParams.set(k, v);
  return u;
}

/** Registers a client and walks the browser through login and consent; returns the authorization response. */
export async function browserAuthorization(
  browser: Browser,
  issuer: string,
  login: BrowserLoginOptions,
): Promise<{ clientId: string; verifier: string; redirect: LoopbackRedirect; response: AuthorizationResponse }> {
  const redirect = await new LoopbackRedirect().start();
  const clientId = await registerPublicClient(issuer, redirect.url);
  const pkce = newPkce();
  const state = randomBytes(8).toString('hex');
  const next = redirect.next();
  // Awaited below; if the browser fails first, the redirect's own timeout must not be an unhandled rejection.
  next.catch(() => undefined);
  await browserLogin(browser, authorizeUrl(issuer, { clientId, redirectUri: redirect.url, challenge: pkce.challenge, state }), login);
  const response = await next;
  if (response.state !== state) throw new Error(`state mismatch: ${response.state} != ${state}`);
  return { clientId, verifier: pkce.verifier, redirect, response };
}

export async function tokenRequest(issuer: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function exchangeCode(issuer: string, p: { clientId: string; code: string; verifier: string; redirectUri: string }) {
  return tokenRequest(issuer, { grant_type: 'authorization_code', client_id: p.clientId, code: p.code, code_verifier: p.verifier, redirect_uri: p.redirectUri });
}

export async function refreshTokens(issuer: string, clientId: string, refreshToken: string) {
  return tokenRequest(issuer, { grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken });
}

/** A JSON-RPC initialize to the MCP URL; the status tells whether the gateway accepted the token. */
export async function mcpInitialize(mcpUrl: string, accessToken?: string): Promise<Response> {
  return fetch(mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'kmg-oauth-it', version: '0' } },
    }),
    signal: AbortSignal.timeout(30_000),
  });
}
