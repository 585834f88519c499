// Getting user tokens from the stack's Keycloak without a browser (for tests and the stack's own proof):
// password grant with the test client, and RFC 8693 standard token exchange to the cluster audience.
import { z } from 'zod';
import { request } from './http.js';

const tokenResponse = z.object({
  access_token: z.string(),
  token_type: z.string(),
  expires_in: z.number().optional(),
  refresh_token: z.string().optional(),
  id_token: z.string().optional(),
  scope: z.string().optional(),
});
export type TokenResponse = z.infer<typeof tokenResponse>;

/** The stack env, raw (`Record<string, string>`) or parsed (StackEnv). */
type Env = { readonly [key: string]: unknown };

function need(env: Env, key: string): string {
  const v = env[key];
  if (typeof v !== 'string' || v === '') throw new Error(`${key} missing from the stack env`);
  return v;
}

async function tokenRequest(env: Env, form: Record<string, string>): Promise<TokenResponse> {
  const endpoint = `${need(env, 'KEYCLOAK_ISSUER')}/protocol/openid-connect/token`;
  const res = await request(endpoint, {
    method: 'POST', caFile: typeof env.STACK_CA_FILE === 'string' ? env.STACK_CA_FILE : undefined,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  if (res.status !== 200) throw new Error(`token endpoint ${res.status}: ${res.text.slice(0, 300)}`);
  return tokenResponse.parse(JSON.parse(res.text));
}

/** A user's token from the test client (direct access grant); its audience includes mcp-test and mcp-gateway. */
export function passwordGrant(env: Env, username: string, password: string, scope = 'openid'): Promise<TokenResponse> {
  return tokenRequest(env, {
    grant_type: 'password',
    client_id: need(env, 'TEST_CLIENT_ID'),
    client_secret: need(env, 'TEST_CLIENT_SECRET'),
    username, password, scope,
  });
}

/**
 * Standard token exchange (Keycloak 26, RFC 8693) of a user's access token for one with `aud: kubernetes`.
 * The requesting client must be in the subject token's audience, and the `kubernetes` optional client scope
 * must be requested: that scope's audience mapper is what makes the cluster audience available.
 */
export function exchangeForCluster(
  env: Env,
  subjectToken: string,
  client: { id: string; secret: string } = { id: need(env, 'TEST_CLIENT_ID'), secret: need(env, 'TEST_CLIENT_SECRET') },
): Promise<TokenResponse> {
  return tokenRequest(env, {
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    client_id: client.id,
    client_secret: client.secret,
    subject_token: subjectToken,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    audience: typeof env.KUBE_AUDIENCE === 'string' ? env.KUBE_AUDIENCE : 'kubernetes',
    scope: typeof env.KUBE_AUDIENCE_SCOPE === 'string' ? env.KUBE_AUDIENCE_SCOPE : 'kubernetes',
  });
}
