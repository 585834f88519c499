import { describe, expect, it } from 'vitest';
import { errorFromResponse, isSecretPath } from './errors.js';

const VALUE = 'hunter2-value';
const status = (code: number, reason: string, message: string, causes?: unknown) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message, ...(causes ? { details: { causes } } : {}) });

describe('apiserver errors about Secrets', () => {
  it('recognises every path to core v1 Secrets, and only those', () => {
    for (const p of ['/api/v1/namespaces/team-a/secrets', '/api/v1/namespaces/team-a/secrets/db', '/api/v1/secrets', '/api/v1/namespaces/a/secrets?labelSelector=owner%3Dhelm'])
      expect(isSecretPath(p), p).toBe(true);
    for (const p of ['/api/v1/namespaces/team-a/configmaps/secrets', '/apis/example.com/v1/namespaces/a/secrets/x', '/api/v1/namespaces/secrets/pods', '/api/v1/secretsx'])
      expect(isSecretPath(p), p).toBe(false);
  });

  it('withholds a validation message that quotes a value, keeping reason, status and field names', () => {
    const body = status(422, 'Invalid', `Secret "db" is invalid: metadata.labels: Invalid value: "${VALUE}": a valid label must be ...`, [
      { reason: 'FieldValueInvalid', message: `Invalid value: "${VALUE}"`, field: 'metadata.labels' },
    ]);
    const err = errorFromResponse('c', 422, body, '/api/v1/namespaces/team-a/secrets/db');
    expect(err.toToolText()).not.toContain(VALUE);
    expect(err.toToolText()).toMatch(/^Invalid: the apiserver refused the request \(HTTP 422\) about metadata\.labels \(FieldValueInvalid\); its message is withheld/);
  });

  it('withholds admission denials and non-JSON bodies about Secrets', () => {
    const denied = errorFromResponse('c', 403, status(403, 'Forbidden', `admission webhook "x" denied the request: data.password=${VALUE}`), '/api/v1/namespaces/a/secrets/db');
    expect(denied.toToolText()).not.toContain(VALUE);
    expect(denied.status).toBe(403);
    const raw = errorFromResponse('c', 500, `panic: ${VALUE}`, '/api/v1/namespaces/a/secrets/db');
    expect(raw.toToolText()).not.toContain(VALUE);
  });

  it('keeps the templated RBAC, not-found and conflict messages, which name only the request', () => {
    const rbac = 'secrets is forbidden: User "oidc:carol" cannot list resource "secrets" in API group "" in the namespace "team-a"';
    expect(errorFromResponse('c', 403, status(403, 'Forbidden', rbac), '/api/v1/namespaces/team-a/secrets').toToolText()).toBe(`Forbidden: ${rbac}`);
    const nf = 'secrets "db" not found';
    expect(errorFromResponse('c', 404, status(404, 'NotFound', nf), '/api/v1/namespaces/team-a/secrets/db').toToolText()).toBe(`NotFound: ${nf}`);
  });

  it('keeps messages about other kinds verbatim', () => {
    const msg = 'pods "web" is forbidden: User "oidc:bob" cannot delete resource "pods" in API group "" in the namespace "team-a"';
    expect(errorFromResponse('c', 403, status(403, 'Forbidden', msg), '/api/v1/namespaces/team-a/pods/web').toToolText()).toBe(`Forbidden: ${msg}`);
  });

  it('does not trust the shape of a Status body', () => {
    const odd = JSON.stringify({ reason: { x: VALUE }, message: 7, details: { causes: 'nope' } });
    const err = errorFromResponse('c', 400, odd, '/api/v1/namespaces/a/secrets/db');
    expect(err.reason).toBe('BadRequest');
    expect(err.toToolText()).not.toContain(VALUE);
    expect(errorFromResponse('c', 400, 'null', '/api/v1/namespaces/a/pods/p').reason).toBe('BadRequest');
  });
});
