// Signing a stack user in through a gateway org in Chromium (Keycloak's form, the gateway's consent page), with
// the scopes the attack needs; returns the authorization response unredeemed so attacks can replay it.
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { browserLogin } from '../support/browser-login.js';
import { LoopbackRedirect } from '../support/oauth-client-provider.js';
import { authorizeUrl, exchangeCode, newPkce, registerPublicClient, type TokenSet } from '../support/oauth-flow.js';

export interface PendingCode {
  issuer: string;
  clientId: string;
  redirectUri: string;
  verifier: string;
  code: string;
}

export async function authorizationCode(browser: Browser, issuer: string, user: { username: string; password: string }, scope?: string): Promise<PendingCode> {
  const redirect = await new LoopbackRedirect().start();
  try {
    const clientId = await registerPublicClient(issuer, redirect.url, 'kmg security suite');
    const pkce = newPkce();
    const state = randomBytes(8).toString('hex');
    const next = redirect.next();
    await browserLogin(browser, authorizeUrl(issuer, { clientId, redirectUri: redirect.url, challenge: pkce.challenge, state, ...(scope ? { scope } : {}) }), { ...user, consent: 'approve' });
    const res = await next;
    if (!res.code || res.state !== state) throw new Error(`login did not return a code: ${res.url.search}`);
    return { issuer, clientId, redirectUri: redirect.url, verifier: pkce.verifier, code: res.code };
  } finally {
    await redirect.close();
  }
}

export async function signIn(browser: Browser, issuer: string, user: { username: string; password: string }, scope?: string): Promise<TokenSet & { clientId: string }> {
  const c = await authorizationCode(browser, issuer, user, scope);
  const t = await exchangeCode(issuer, { clientId: c.clientId, code: c.code, verifier: c.verifier, redirectUri: c.redirectUri });
  if (t.status !== 200) throw new Error(`token: ${t.status} ${JSON.stringify(t.body)}`);
  return { ...(t.body as unknown as TokenSet), clientId: c.clientId };
}
