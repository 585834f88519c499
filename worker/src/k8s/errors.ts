/** One entry of a metav1.Status's details.causes (a server-side apply conflict names the manager and the field). */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** A failure talking to a cluster, shaped for the model: a Kubernetes reason, never a stack trace or headers. */
export class KubeApiError extends Error {
  constructor(
    readonly cluster: string,
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly causes: readonly StatusCause[] = [],
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
  details?: { causes?: unknown };
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

/** Core v1 Secrets, namespaced or across namespaces (the only API paths whose objects carry Secret values). */
const SECRET_PATH = /^\/api\/v1\/(?:namespaces\/[^/?#]+\/)?secrets(?:[/?#]|$)/;

export function isSecretPath(path: string): boolean {
  return SECRET_PATH.test(path);
}

/**
 * apiserver messages about Secrets that name only the request (resource, object name, user, verb, namespace),
 * never object content: RBAC denials, not found, already exists, optimistic-lock conflicts.
 */
const TEMPLATED_SECRET_MESSAGES = [
  /^secrets(?: "[^"]*")? is forbidden: User "[^"]*" cannot [a-z]+ resource "secrets" in API group ""(?: in the namespace "[^"]*"| at the cluster scope)?$/,
  /^secrets "[^"]*" not found$/,
  /^secrets "[^"]*" already exists$/,
  /^Operation cannot be fulfilled on secrets "[^"]*": the object has been modified; please apply your changes to the latest version and try again$/,
];
const SAFE_CAUSE = /^[A-Za-z0-9_.\-[\]]{1,253}$/;

/**
 * An apiserver error about a Secret, told without its message unless that message is one of the templates
 * above: validation messages ("Invalid value: ...") and admission denials can quote the object, and a patch
 * can move a Secret value into any field first. What stays: the reason, the HTTP status and the invalid
 * field paths (names, never values), enough to fix the request.
 */
function secretSafeMessage(status: number, parsed: StatusBody | undefined): string {
  const message = typeof parsed?.message === 'string' ? parsed.message.trim() : '';
  if (TEMPLATED_SECRET_MESSAGES.some((t) => t.test(message))) return message;
  const causes: unknown[] = Array.isArray(parsed?.details?.causes) ? (parsed.details.causes as unknown[]) : [];
  const fields: string[] = [];
  for (const c of causes) {
    const { field, reason } = (typeof c === 'object' && c !== null ? c : {}) as { field?: unknown; reason?: unknown };
    if (typeof field !== 'string' || !SAFE_CAUSE.test(field)) continue;
    fields.push(typeof reason === 'string' && SAFE_CAUSE.test(reason) ? `${field} (${reason})` : field);
  }
  const where = fields.length ? ` about ${[...new Set(fields)].slice(0, 10).join(', ')}` : '';
  return `the apiserver refused the request (HTTP ${status})${where}; its message is withheld because it concerns a Secret and could quote its values`;
}

/**
 * Maps an apiserver error response (a metav1.Status body, or anything else) to a KubeApiError.
 * `path` is the API path asked for: errors about Secrets never carry the apiserver's own text (see secretSafeMessage).
 */
export function errorFromResponse(cluster: string, status: number, body: string, path = ''): KubeApiError {
  let parsed: StatusBody | undefined;
  try {
    parsed = JSON.parse(body) as StatusBody;
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) parsed = undefined;
  const secret = isSecretPath(path);
  const reason = (typeof parsed?.reason === 'string' && /^[A-Za-z]{1,64}$/.test(parsed.reason) ? parsed.reason : '') || REASON_BY_STATUS[status] || `HTTP${status}`;
  const apiMessage = typeof parsed?.message === 'string' ? parsed.message : '';
  const message = secret ? secretSafeMessage(status, parsed) : (apiMessage || body.slice(0, 500) || `HTTP ${status}`).trim();
  if (status === 401) return new KubeUnauthorizedError(cluster, message || 'Unauthorized');
  return new KubeApiError(cluster, status, reason, message, statusCauses(parsed, secret));
}

/** A field-manager conflict names a manager and a field path, never a value: kept even for Secrets. */
const CONFLICT_CAUSE = /^conflict with "[^"\n]{0,128}"(?: with subresource "[a-z]{1,32}")?(?: using [\w./-]{1,100})?$/;

function statusCauses(parsed: StatusBody | undefined, secret: boolean): StatusCause[] {
  const causes: unknown[] = Array.isArray(parsed?.details?.causes) ? (parsed.details.causes as unknown[]) : [];
  const out: StatusCause[] = [];
  for (const c of causes.slice(0, 100)) {
    if (typeof c !== 'object' || c === null) continue;
    const { reason, message, field } = c as Record<string, unknown>;
    const cause: StatusCause = {
      ...(typeof reason === 'string' ? { reason: reason.slice(0, 100) } : {}),
      ...(typeof message === 'string' ? { message: message.slice(0, 500) } : {}),
      ...(typeof field === 'string' ? { field: field.slice(0, 300) } : {}),
    };
    if (secret && !(cause.reason === 'FieldManagerConflict' && CONFLICT_CAUSE.test(cause.message ?? '') && !/[\n"]/.test(cause.field ?? ''))) continue;
    out.push(cause);
  }
  return out;
}

/** Text for a tool error result: Kubernetes reason, cluster name for reachability, nothing internal. */
export function toolErrorText(err: unknown): string {
  if (err instanceof KubeApiError) return err.toToolText();
  if (err instanceof ClusterUnreachableError) return err.message;
  if (err instanceof ToolRefusal) return err.message;
  return 'internal error in the worker (details are in its log)';
}
