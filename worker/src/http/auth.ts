import type { IncomingMessage } from 'node:http';
import { createHash } from 'node:crypto';
import { ASSERTION_TYPE } from '@kmg/shared';
import type { WorkerConfig } from '../config.js';
import { bearerToken, jwtType } from '../identity/bearer.js';
import { AssertionRefused, type AssertionVerifier } from '../identity/impersonation.js';
import type { Identity } from '../identity/types.js';
import { TtlCache } from '../k8s/cache.js';
import type { ClientFactory } from '../k8s/clients.js';
import { ClusterUnreachableError, KubeUnauthorizedError } from '../k8s/errors.js';
import { clusterFromHeader, ClusterPinError, onlyCluster, CLUSTER_HEADER } from './cluster-pin.js';

/** Who a request acts as, and the cluster it is pinned to (undefined: the tool arguments choose, local use only). */
export interface Authenticated {
  identity: Identity;
  cluster: string | undefined;
}

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
 * Turns a request's credentials and cluster header into an Identity pinned to one cluster, or an AuthFailure
 * (HTTP 401) / ClusterPinError (HTTP 400). Never falls back
 * to the worker's own identity: kubeconfig identity exists only when every cluster is configured for it (local use).
 */
export class Authenticator {
  private readonly verifiedBearers = new TtlCache<true>(VERIFIED_TTL_MS, 10_000);

  constructor(
    private readonly config: WorkerConfig,
    private readonly factory: ClientFactory,
    private readonly assertions: AssertionVerifier | undefined,
  ) {}

  /**
   * Credentials and cluster together, because each limits the other: an assertion is valid only for the
   * cluster it was signed for, a bearer token is checked against the cluster it will be sent to.
   * Throws AuthFailure (HTTP 401) or ClusterPinError (HTTP 400).
   */
  async authenticate(req: Pick<IncomingMessage, 'headers'>): Promise<Authenticated> {
    const modes = new Set(this.config.clusters.map((c) => c.identity));
    const token = bearerToken(req.headers.authorization);
    if (!token) {
      // Local use (loopback, kubeconfig identity): the arguments choose among the clusters, as in stdio.
      if (modes.size === 1 && modes.has('kubeconfig')) return { identity: { kind: 'kubeconfig' }, cluster: clusterFromHeader(this.config, req.headers) ?? onlyCluster(this.config) };
      throw new AuthFailure('invalid_request', MISSING);
    }
    const pinned = clusterFromHeader(this.config, req.headers);
    if (jwtType(token) === ASSERTION_TYPE) {
      if (!this.assertions || !modes.has('impersonation')) throw new AuthFailure('invalid_token', 'identity assertions are not accepted by this worker');
      let verified;
      try {
        verified = await this.assertions.verify(token);
      } catch (err) {
        throw new AuthFailure('invalid_token', err instanceof AssertionRefused ? `identity assertion rejected: ${err.message}` : 'identity assertion rejected');
      }
      // The claim is the gateway's signed word on the cluster: it must name the cluster this request runs on
      // (the header's, or a one-cluster worker's), and alone it pins a request that has no header.
      if (!verified.cluster) throw new AuthFailure('invalid_token', 'identity assertion rejected: it names no cluster');
      const cluster = pinned ?? onlyCluster(this.config) ?? verified.cluster;
      if (verified.cluster !== cluster) throw new AuthFailure('invalid_token', `identity assertion rejected: it was signed for cluster ${verified.cluster}, not ${cluster}`);
      this.requireMode(cluster, 'impersonation');
      return { identity: verified.identity, cluster };
    }
    if (!modes.has('bearer')) throw new AuthFailure('invalid_token', 'this worker accepts only gateway identity assertions');
    // A token exchanged for one cluster must not be sent to another apiserver: with several clusters the
    // gateway has to say which one (fail closed rather than fall back to a default).
    const cluster = pinned ?? onlyCluster(this.config);
    if (!cluster) throw new ClusterPinError(`this worker serves several clusters: send ${CLUSTER_HEADER} naming the one this request is for`);
    this.requireMode(cluster, 'bearer');
    const identity: Identity = { kind: 'bearer', token };
    await this.checkBearer(cluster, identity);
    return { identity, cluster };
  }

  private requireMode(cluster: string, mode: 'bearer' | 'impersonation'): void {
    const c = this.config.clusters.find((x) => x.name === cluster);
    if (!c) throw new AuthFailure('invalid_token', `cluster ${cluster} is not served by this worker`);
    if (c.identity !== mode) {
      throw new AuthFailure('invalid_token', mode === 'bearer' ? `cluster ${cluster} takes gateway identity assertions, not bearer tokens` : `cluster ${cluster} does not take identity assertions`);
    }
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
