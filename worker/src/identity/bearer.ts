/** The token from `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const m = value ? /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(value) : null;
  return m?.[1];
}

/** Whether a compact JWT's protected header has this `typ` (no verification; only to route it to the right verifier). */
export function jwtType(token: string): string | undefined {
  const head = token.split('.')[0];
  if (!head || token.split('.').length !== 3) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { typ?: unknown };
    return typeof parsed.typ === 'string' ? parsed.typ : undefined;
  } catch {
    return undefined;
  }
}
