import { randomBytes } from 'node:crypto';
import type { Response } from 'express';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.5}
h1{font-size:1.4rem}ul{padding-left:1.2rem}.muted{color:#555}.actions{display:flex;gap:1rem;margin-top:1.5rem}
button{font-size:1rem;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid #333;cursor:pointer}
button.primary{background:#0b57d0;color:#fff;border-color:#0b57d0}button:focus{outline:3px solid #f9a825;outline-offset:2px}
code{background:#f1f1f1;padding:0 .2rem}`;

/**
 * Sends a server-rendered page with a strict per-response CSP: nothing loads, the only style is this
 * response's nonce, forms post to this origin (and, for consent, to the client's redirect origin, since
 * browsers apply form-action to the redirect that follows the post).
 */
export function sendPage(res: Response, status: number, title: string, bodyHtml: string, opts: { formTargets?: string[] } = {}): void {
  const nonce = randomBytes(16).toString('base64');
  const formAction = ["'self'", ...(opts.formTargets ?? [])].join(' ');
  res.setHeader(
    'Content-Security-Policy',
    `default-src 'none'; style-src 'nonce-${nonce}'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
  );
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Frame-Options', 'DENY');
  res.status(status).type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title><style nonce="${nonce}">${STYLE}</style></head>
<body><main>${bodyHtml}</main></body></html>`);
}

/** Authorization errors we must not redirect (unknown client, bad redirect_uri): shown to the user instead. */
export function sendErrorPage(res: Response, status: number, error: string, description: string): void {
  sendPage(
    res,
    status,
    'Sign-in problem',
    `<h1>This sign-in request cannot continue</h1>
<p role="alert"><strong>${escapeHtml(error)}</strong>: ${escapeHtml(description)}</p>
<p class="muted">Close this window and try connecting again from your application. If it keeps happening, tell your administrator.</p>`,
  );
}
