// User tokens for tests without a browser: the password grant at the stack's Keycloak with the
// test client (TEST_CLIENT_ID/SECRET), then RFC 8693 token exchange to the cluster audience.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { StackEnv } from '../stack/env.js';

export type StackUser = 'alice' | 'bob' | 'carol';

export interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
  token_type: string;
  issued_token_type?: string;
}

export class TokenRequestError extends Error {
  constructor(readonly status: number, readonly body: string) {
    super(`Keycloak token endpoint answered ${status}: ${body.slice(0, 300)}`);
    this.name = 'TokenRequestError';
  }
}

/** POSTs a form to the realm's token endpoint over HTTPS trusting the stack CA. */
export async function tokenRequest(env: StackEnv, form: Record<string, string>): Promise<TokenResponse> {
  const url = new URL(`${env.KEYCLOAK_URL.replace(/\/$/, '')}/realms/${env.KEYCLOAK_REALM}/protocol/openid-connect/token`);
  const body = new URLSearchParams(form).toString();
  const ca = readFileSync(env.STACK_CA_FILE);
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = https.request(
      url,
      { method: 'POST', ca, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), accept: 'application/json' }, timeout: 30_000 },
      (res) => {
        let t = '';
        res.on('data', (c: Buffer) => (t += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: t }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('Keycloak token request timed out')));
    req.on('error', reject);
    req.end(body);
  });
  if (status !== 200) throw new TokenRequestError(status, text);
  return JSON.parse(text) as TokenResponse;
}

export function passwordOf(env: StackEnv, user: StackUser): string {
  return { alice: env.ALICE_PASSWORD, bob: env.BOB_PASSWORD, carol: env.CAROL_PASSWORD }[user];
}

/** A Keycloak access token for the user, issued to the test client (password grant). */
export function userToken(env: StackEnv, user: StackUser, password = passwordOf(env, user)): Promise<TokenResponse> {
  return tokenRequest(env, {
    grant_type: 'password',
    client_id: env.TEST_CLIENT_ID,
    client_secret: env.TEST_CLIENT_SECRET,
    username: user,
    password,
    scope: 'openid',
  });
}

/**
 * RFC 8693 exchange of a subject token for one with the given audience (Keycloak standard token exchange).
 * Keycloak only grants an audience that a requested client scope maps, hence `scope` (the stack's
 * `kubernetes` optional client scope, KUBE_AUDIENCE_SCOPE).
 */
export function exchangeToken(env: StackEnv, subjectToken: string, audience: string, scope = audienceScope(env)): Promise<TokenResponse> {
  return tokenRequest(env, {
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    client_id: env.TEST_CLIENT_ID,
    client_secret: env.TEST_CLIENT_SECRET,
    subject_token: subjectToken,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    audience,
    ...(scope ? { scope } : {}),
  });
}

function audienceScope(env: StackEnv): string | undefined {
  return (env as Record<string, unknown>).KUBE_AUDIENCE_SCOPE as string | undefined ?? env.KUBE_AUDIENCE;
}

const cache = new Map<string, { token: string; expires: number }>();

/**
 * The user's token for the kube-apiserver (audience KUBE_AUDIENCE, normally `kubernetes`): password
 * grant then exchange, cached in this process until a minute before it expires.
 */
export async function kubeToken(env: StackEnv, user: StackUser): Promise<string> {
  const key = `${env.KEYCLOAK_URL}|${user}`;
  const hit = cache.get(key);
  if (hit && hit.expires > Date.now()) return hit.token;
  const subject = await userToken(env, user);
  const exchanged = await exchangeToken(env, subject.access_token, env.KUBE_AUDIENCE);
  cache.set(key, { token: exchanged.access_token, expires: Date.now() + (exchanged.expires_in - 60) * 1000 });
  return exchanged.access_token;
}

/** Decoded JWT payload (no verification; for asserting on claims in tests). */
export function jwtClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}
