// An MCP client's OAuth state for tests: the v1 SDK's OAuthClientProvider kept in memory, plus a loopback
// redirect server that catches the authorization response (code, state, iss or error) like a native app.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

export interface AuthorizationResponse {
  url: URL;
  code?: string;
  state?: string;
  iss?: string;
  error?: string;
}

/** Listens on 127.0.0.1:<free port>/callback and resolves each authorization response it receives. */
export class LoopbackRedirect {
  private server?: http.Server;
  private waiters: ((r: AuthorizationResponse) => void)[] = [];
  readonly received: AuthorizationResponse[] = [];
  url = '';

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', this.url);
      const p = url.searchParams;
      const r: AuthorizationResponse = { url, code: p.get('code') ?? undefined, state: p.get('state') ?? undefined, iss: p.get('iss') ?? undefined, error: p.get('error') ?? undefined };
      this.received.push(r);
      this.waiters.shift()?.(r);
      res.writeHead(200, { 'content-type': 'text/plain' }).end(r.error ? `error: ${r.error}` : 'signed in; you can close this window');
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/callback`;
    return this;
  }

  next(timeoutMs = 60_000): Promise<AuthorizationResponse> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no authorization response reached the redirect URI')), timeoutMs);
      this.waiters.push((r) => {
        clearTimeout(t);
        resolve(r);
      });
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The SDK's provider interface, in memory; `authorizationUrls` records where the SDK sent the user. */
export class InMemoryOAuthProvider implements OAuthClientProvider {
  clientInfo?: OAuthClientInformationMixed;
  savedTokens?: OAuthTokens;
  verifier = '';
  readonly authorizationUrls: URL[] = [];

  constructor(
    readonly redirectUrl: string,
    private readonly metadata: Partial<OAuthClientMetadata> = {},
    /** Set for the client ID metadata document flow (the SDK then skips registration). */
    readonly clientMetadataUrl?: string,
  ) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'kmg integration test client',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...this.metadata,
    };
  }
  clientInformation() {
    return this.clientInfo;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.clientInfo = info;
  }
  tokens() {
    return this.savedTokens;
  }
  saveTokens(tokens: OAuthTokens) {
    this.savedTokens = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrls.push(url);
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}
