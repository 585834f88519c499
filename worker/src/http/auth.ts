import type { IncomingMessage } from 'node:http';
import { createHash } from 'node:crypto';
import { ASSERTION_TYPE } from '@kmg/shared';
import type { WorkerConfig } from '../config.js';
import { bearerToken, jwtType } from '../identity/bearer.js';
import type { AssertionVerifier } from '../identity/impersonation.js';
import type { Identity } from '../identity/types.js';
import { TtlCache } from '../k8s/cache.js';
import type { ClientFactory } from '../k8s/clients.js';
import { ClusterUnreachableError, KubeUnauthorizedError } from '../k8s/errors.js';

export class AuthFailure extends Error {
  constructor(
    readonly code: 'invalid_request' | 'invalid_token',
    readonly description: string,
  ) {
    super(description);
    this.name = 'AuthFailure';
  }

  /** RFC 6750 challenge; values quoted with quotes and backslashes escaped. */
  get challenge(): string {
    const q = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;
    return this.code === 'invalid_request' && this.description === MISSING
      ? `Bearer realm=${q('kube-mcp-worker')}`
      : `Bearer realm=${q('kube-mcp-worker')}, error=${q(this.code)}, error_description=${q(this.description)}`;
  }
}

const MISSING = 'no credentials: send Authorization: Bearer <token for the cluster audience or gateway identity assertion>';
const VERIFIED_TTL_MS = 60_000;

/**
 * Turns a request's credentials into an Identity or an AuthFailure (HTTP 401). Never falls back
 * to the worker's own identity: kubeconfig identity exists only when every cluster is configured for it (local use).
 */
export class Authenticator {
  private readonly verifiedBearers = new TtlCache<true>(VERIFIED_TTL_MS, 10_000);

  constructor(
    private readonly config: WorkerConfig,
    private readonly factory: ClientFactory,
    private readonly assertions: AssertionVerifier | undefined,
  ) {}

  async authenticate(req: Pick<IncomingMessage, 'headers'>): Promise<Identity> {
    const modes = new Set(this.config.clusters.map((c) => c.identity));
    const token = bearerToken(req.headers.authorization);
    if (!token) {
      if (modes.size === 1 && modes.has('kubeconfig')) return { kind: 'kubeconfig' };
      throw new AuthFailure('invalid_request', MISSING);
    }
    if (jwtType(token) === ASSERTION_TYPE) {
      if (!this.assertions || !modes.has('impersonation')) throw new AuthFailure('invalid_token', 'identity assertions are not accepted by this worker');
      try {
        return await this.assertions.verify(token);
      } catch {
        throw new AuthFailure('invalid_token', 'identity assertion rejected');
      }
    }
    const bearerCluster = this.config.clusters.find((c) => c.identity === 'bearer');
    if (!bearerCluster) throw new AuthFailure('invalid_token', 'this worker accepts only gateway identity assertions');
    const identity: Identity = { kind: 'bearer', token };
    await this.checkBearer(bearerCluster.name, identity);
    return identity;
  }

  /**
   * Asks the cluster who the token is (SelfSubjectReview) once per token per minute, so an expired or
   * foreign token is a 401 here even for tools/list. An unreachable cluster is not the caller's fault:
   * the tools will say so by name.
   */
  private async checkBearer(cluster: string, identity: Identity & { kind: 'bearer' }): Promise<void> {
    const key = createHash('sha256').update(`${cluster}\u0000${identity.token}`).digest('base64url');
    if (this.verifiedBearers.get(key)) return;
    try {
      await this.factory.forIdentity(cluster, identity).rest.json('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
        timeoutMs: 10_000,
      });
      this.verifiedBearers.set(key, true);
    } catch (err) {
      if (err instanceof KubeUnauthorizedError) throw new AuthFailure('invalid_token', `cluster ${cluster} rejected the token (expired or wrong audience)`);
      if (err instanceof ClusterUnreachableError) return;
      // Any other answer (403 on a cluster that forbids SelfSubjectReview) still proves the token authenticated.
      this.verifiedBearers.set(key, true);
    }
  }
}
