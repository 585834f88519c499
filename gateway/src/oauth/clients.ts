import type { Logger } from '@kmg/shared/logger';
import type { KvStore } from '../store/kv.js';
import type { Sealer } from '../crypto/seal.js';
import { SealedRecords } from '../store/sealed.js';
import type { OAuthOrgConfig } from '../config/oauth.js';
import type { Site } from '../http/sites.js';
import { OAuthError } from './errors.js';
import { checkRedirectUri, offAllowList } from './redirect-uri.js';
import { hashToken, safeEqual } from './tokens.js';
import { isMetadataDocumentClientId, type ClientMetadataDocument } from './client-metadata.js';

export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

/** What the authorization server knows about a client, however it came to know it. */
export interface OAuthClient {
  client_id: string;
  client_name?: string;
  client_uri?: string;
  redirect_uris: string[];
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  grant_types: string[];
  scope?: string;
  /** SHA-256 of the secret for confidential clients (registered); never the secret itself. */
  secretHash?: string;
  client_id_issued_at?: number;
  source: 'registered' | 'configured' | 'metadata-document';
  skipConsent: boolean;
  /** Registered clients become long-lived once they obtained a token. */
  used?: boolean;
}

/** Whether an org accepts client ID metadata documents: as configured, else on unless registration needs a token. */
export function metadataDocumentsEnabled(cfg: OAuthOrgConfig): boolean {
  return cfg.clientIdMetadataDocuments.enabled ?? cfg.registration.policy !== 'initial-access-token';
}

/** The one answer for any document that cannot be used: the reason (connect refused, not JSON, …) is logged only. */
const DOCUMENT_UNUSABLE = 'the client_id metadata document could not be used';

/**
 * Looks clients up by id: configured (pre-registered) first, then an https client_id names a metadata
 * document (fetched and cached), else a dynamic registration in the store (`client:{org}:{id}`). Stored
 * clients are sealed (their redirect URIs decide where codes go).
 */
export class ClientRegistry {
  private readonly records: SealedRecords;
  constructor(
    private readonly kv: KvStore,
    sealer: Sealer,
    private readonly fetchDocument: (site: Site, url: string) => Promise<ClientMetadataDocument>,
    private readonly logger?: Logger,
  ) {
    this.records = new SealedRecords(kv, sealer);
  }

  private key(site: Site, clientId: string): string {
    return `client:${site.org.name}:${hashToken(clientId)}`;
  }

  async find(site: Site, clientId: string): Promise<OAuthClient | null> {
    const cfg = site.org.oauth!;
    const configured = cfg.clients.find((c) => c.client_id === clientId);
    if (configured) {
      return {
        client_id: configured.client_id,
        client_name: configured.client_name,
        redirect_uris: configured.redirect_uris,
        token_endpoint_auth_method: configured.client_secret ? 'client_secret_basic' : 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        scope: configured.scope,
        secretHash: configured.client_secret ? hashToken(configured.client_secret) : undefined,
        source: 'configured',
        skipConsent: configured.skipConsent,
      };
    }
    if (isMetadataDocumentClientId(clientId)) {
      if (!metadataDocumentsEnabled(cfg)) return null;
      const client = await this.fromDocument(site, clientId, cfg);
      // The org's registration policy holds for document clients too (checked on cached ones as well, so a
      // policy change applies at once).
      if (cfg.registration.policy === 'allow-listed') {
        const off = offAllowList(client.redirect_uris.map((u) => new URL(u)), cfg.registration.allowedRedirectHosts);
        if (off) throw new OAuthError('invalid_client', `redirect host ${off.hostname} of this client is not on this server's allow list`);
      }
      return client;
    }
    return this.records.get<OAuthClient>(this.key(site, clientId));
  }

  private async fromDocument(site: Site, url: string, cfg: OAuthOrgConfig): Promise<OAuthClient> {
    // Per org: orgs differ in policy, so one org's accepted document must not serve another.
    const cacheKey = `cimd:${site.org.name}:${hashToken(url)}`;
    const cached = await this.records.get<OAuthClient>(cacheKey);
    if (cached) return cached;
    let doc: ClientMetadataDocument;
    try {
      doc = await this.fetchDocument(site, url);
      for (const uri of doc.redirect_uris) checkRedirectUri(uri);
    } catch (cause) {
      // Never echo why: "connection refused" versus "not JSON" would map ports of hosts the gateway can reach.
      this.logger?.info({ clientId: url, org: site.org.name, reason: cause instanceof OAuthError ? cause.description : (cause as Error).message }, 'client_id metadata document refused');
      throw new OAuthError('invalid_client', DOCUMENT_UNUSABLE, { cause });
    }
    const client: OAuthClient = {
      client_id: url,
      client_name: doc.client_name,
      client_uri: doc.client_uri,
      redirect_uris: doc.redirect_uris,
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      scope: doc.scope,
      source: 'metadata-document',
      skipConsent: false,
    };
    await this.records.set(cacheKey, client, cfg.clientIdMetadataDocuments.cacheSeconds);
    return client;
  }

  async save(site: Site, client: OAuthClient, ttlSeconds: number): Promise<void> {
    await this.records.set(this.key(site, client.client_id), client, ttlSeconds);
  }

  /** Called when a registered client obtained tokens: it is in use, keep it for the long lifetime. */
  async markUsed(site: Site, client: OAuthClient): Promise<void> {
    if (client.source !== 'registered') return;
    const ttl = site.org.oauth!.registration.clientTtlSeconds;
    if (client.used) {
      await this.kv.expire(this.key(site, client.client_id), ttl);
      return;
    }
    await this.save(site, { ...client, used: true }, ttl);
  }

  /**
   * Client authentication at the token and revocation endpoints (RFC 6749 §2.3): HTTP Basic or body
   * credentials for confidential clients, client_id alone for public ones. Secrets compare in constant time.
   */
  async authenticate(site: Site, creds: { clientId?: string; clientSecret?: string; method: 'basic' | 'post' | 'none' }): Promise<OAuthClient> {
    if (!creds.clientId) throw new OAuthError('invalid_client', 'client authentication failed: no client_id');
    const client = await this.find(site, creds.clientId).catch((e: unknown) => {
      if (e instanceof OAuthError) throw new OAuthError('invalid_client', e.description);
      throw e;
    });
    if (!client) throw new OAuthError('invalid_client', 'client authentication failed: unknown client');
    if (client.token_endpoint_auth_method === 'none') {
      if (creds.clientSecret) throw new OAuthError('invalid_client', 'client authentication failed: public client sent a secret');
      return client;
    }
    if (!creds.clientSecret || !client.secretHash || !safeEqual(hashToken(creds.clientSecret), client.secretHash)) {
      throw new OAuthError('invalid_client', 'client authentication failed');
    }
    return client;
  }
}
