import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import express from 'express';
import Provider, { interactionPolicy } from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';
import { DevIdpStore } from './idp-store.js';
import { checkPassword, type DevUser } from './users.js';

export interface DevIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  server: Server;
  close(): Promise<void>;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid: string, error?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>kube-mcp-gateway dev login</title></head>
<body><main><h1>Development sign-in</h1><p>Users come from test/dev/users.yaml.</p>
${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label>Username <input name="username" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form></main></body></html>`;
}

/**
 * The identity provider `npm start` uses in place of Keycloak: oidc-provider (a certified OpenID Provider)
 * on loopback, with the gateway as its one confidential client and users from a file. The gateway talks to it
 * exactly as to Keycloak (discovery, authorization code + PKCE, refresh), so the dev path is the real path.
 * oidc-provider 8 rather than 9: 9 supports Node 22+ only and says so on every start under Node 20.
 */
export async function startDevIdp(opts: { port: number; users: DevUser[]; redirectUris: string[] }): Promise<DevIdp> {
  const issuer = `http://127.0.0.1:${opts.port}`;
  const clientId = 'mcp-gateway';
  const clientSecret = randomBytes(24).toString('base64url');
  const users = new Map(opts.users.map((u) => [u.username, u]));
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'dev-1', alg: 'RS256', use: 'sig' };

  const store = new DevIdpStore();
  // Ask who you are on every sign-in, even with a session from the last one: switching between dev users
  // (signing in as dev-viewer after dev-admin) is what this IdP is for.
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(
    new interactionPolicy.Check('every_sign_in', 'the development IdP asks on every sign-in', 'login_required', (ctx) =>
      ctx.oidc.result?.login ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT,
    ),
  );
  const provider = new Provider(issuer, {
    adapter: store.adapterFor,
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: opts.redirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub'], profile: ['preferred_username', 'name', 'groups'], email: ['email'] },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    // The gateway keeps the user logged in by refreshing: always issue a refresh token to it.
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(g: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    ttl: { AccessToken: 900, IdToken: 900, RefreshToken: 14 * 24 * 3600, Session: 14 * 24 * 3600, Grant: 14 * 24 * 3600, Interaction: 600 },
    interactions: { policy, url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: async (_ctx: unknown, id: string) => {
      const u = users.get(id);
      if (!u) return undefined;
      return {
        accountId: id,
        claims: async () => ({ sub: id, preferred_username: id, name: u.name ?? id, groups: u.groups, ...(u.email ? { email: u.email } : {}) }),
      };
    },
  });

  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    // script-src: oidc-provider adds the hash of its one inline script (the auto-submitting form that ends the
    // previous user's session when another dev user signs in) to this directive.
    res.setHeader('Content-Security-Policy', "default-src 'none'; script-src 'self'; form-action 'self' http://127.0.0.1:*; frame-ancestors 'none'");
    next();
  });
  app.get('/interaction/:uid', async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'login') return void res.type('html').send(loginPage(details.uid));
      // Consent at the IdP is implied for the gateway, which shows its own consent page to the user.
      const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: details.session!.accountId, clientId: details.params.client_id });
      if (!grant) throw new Error('grant not found');
      const d = details.prompt.details;
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
      await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    } catch (err) {
      next(err);
    }
  });
  app.post('/interaction/:uid/login', express.urlencoded({ extended: false, limit: '4kb' }), async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res);
      const body = req.body as { username?: unknown; password?: unknown };
      const username = typeof body.username === 'string' ? body.username : '';
      const password = typeof body.password === 'string' ? body.password : '';
      if (!checkPassword(users.get(username), password)) return void res.status(401).type('html').send(loginPage(details.uid, 'Unknown user or wrong password.'));
      await provider.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
    } catch (err) {
      next(err);
    }
  });
  app.use(provider.callback());

  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(opts.port, '127.0.0.1', () => resolve(s));
  });
  return {
    issuer,
    clientId,
    clientSecret,
    server,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
