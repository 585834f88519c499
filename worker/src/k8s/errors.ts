/** A failure talking to a cluster, shaped for the model: a Kubernetes reason, never a stack trace or headers. */
export class KubeApiError extends Error {
  constructor(
    readonly cluster: string,
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }

  /** "Forbidden: pods is forbidden: User "oidc:bob" cannot delete resource ..." */
  toToolText(): string {
    return `${this.reason}: ${this.message}`;
  }
}

/** The apiserver rejected the credentials (expired token): the HTTP edge turns this into a 401 for the caller. */
export class KubeUnauthorizedError extends KubeApiError {
  constructor(cluster: string, message: string) {
    super(cluster, 401, 'Unauthorized', message);
    this.name = 'KubeUnauthorizedError';
  }
}

/** The apiserver could not be reached at all. */
export class ClusterUnreachableError extends Error {
  constructor(
    readonly cluster: string,
    detail: string,
  ) {
    super(`cluster ${cluster} is unreachable: ${detail}`);
    this.name = 'ClusterUnreachableError';
  }
}

/** A tool refused by policy or by a bad combination of arguments the schema cannot express. */
export class ToolRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolRefusal';
  }
}

interface StatusBody {
  kind?: string;
  reason?: string;
  message?: string;
  code?: number;
}

const REASON_BY_STATUS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** Maps an apiserver error response (a metav1.Status body, or anything else) to a KubeApiError. */
export function errorFromResponse(cluster: string, status: number, body: string): KubeApiError {
  let parsed: StatusBody | undefined;
  try {
    parsed = JSON.parse(body) as StatusBody;
  } catch {
    parsed = undefined;
  }
  const reason = parsed?.reason || REASON_BY_STATUS[status] || `HTTP${status}`;
  const message = (parsed?.message || body.slice(0, 500) || `HTTP ${status}`).trim();
  if (status === 401) return new KubeUnauthorizedError(cluster, message || 'Unauthorized');
  return new KubeApiError(cluster, status, reason, message);
}

/** Text for a tool error result: Kubernetes reason, cluster name for reachability, nothing internal. */
export function toolErrorText(err: unknown): string {
  if (err instanceof KubeApiError) return err.toToolText();
  if (err instanceof ClusterUnreachableError) return err.message;
  if (err instanceof ToolRefusal) return err.message;
  return 'internal error in the worker (details are in its log)';
}
