import type { Request, Response } from 'express';

/** Reads one cookie without a parser dependency (names we set are plain tokens). */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** HttpOnly, SameSite=Lax (survives the top-level redirect back from Keycloak), Secure when served over https. */
export function setLoginCookie(res: Response, name: string, value: string, opts: { path: string; secure: boolean; maxAgeSeconds: number }): void {
  res.cookie(name, value, { httpOnly: true, sameSite: 'lax', secure: opts.secure, path: opts.path, maxAge: opts.maxAgeSeconds * 1000 });
}
