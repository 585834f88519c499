import { OAuthError } from './errors.js';

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * The first redirect URI whose host the allow-listed registration policy does not allow: http(s) on a host
 * that is neither loopback nor listed. Private-use schemes (native apps) have no host to check.
 */
export function offAllowList(uris: URL[], allowedHosts: string[]): URL | undefined {
  return uris.find((u) => (u.protocol === 'http:' || u.protocol === 'https:') && !isLoopbackHost(u.hostname) && !allowedHosts.includes(u.hostname));
}

/**
 * Redirect URIs clients may register (OAuth 2.1 §2.3.1, RFC 8252 §7.3/§8.4): https, or http on a loopback
 * host (any port), or a private-use scheme with a dot (reverse-domain, e.g. `com.example.app:/cb`, for native
 * apps such as Cursor/VS Code). Refused: fragments, wildcards, userinfo, javascript:/data:/file: and other
 * dangerous schemes, http on a non-loopback host.
 */
export function checkRedirectUri(raw: string): URL {
  const bad = (why: string) => new OAuthError('invalid_redirect_uri', `redirect_uri ${JSON.stringify(raw.slice(0, 200))}: ${why}`);
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2000) throw bad('must be a non-empty string up to 2000 characters');
  if (raw.includes('*')) throw bad('wildcards are not allowed');
  if (/[\s<>"\\]/.test(raw)) throw bad('contains characters that are not allowed');
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw bad('not an absolute URI');
  }
  if (raw.includes('#') || u.hash) throw bad('fragments are not allowed');
  if (u.username || u.password) throw bad('userinfo is not allowed');
  const scheme = u.protocol.slice(0, -1).toLowerCase();
  if (['javascript', 'data', 'file', 'blob', 'vbscript', 'about', 'ftp', 'ws', 'wss'].includes(scheme)) throw bad(`the ${scheme}: scheme is not allowed`);
  if (scheme === 'https') {
    if (!u.hostname) throw bad('https URIs need a host');
    return u;
  }
  if (scheme === 'http') {
    if (!isLoopbackHost(u.hostname)) throw bad('http is only allowed on a loopback host (127.0.0.1, [::1], localhost)');
    return u;
  }
  // Private-use URI scheme for native apps: must look like a reverse domain name (RFC 8252 §7.1).
  if (/^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+$/.test(scheme) || ['cursor', 'vscode', 'vscode-insiders', 'claude'].includes(scheme)) return u;
  throw bad('must be https, http on a loopback host, or a reverse-domain private-use scheme');
}

/**
 * Exact match (OAuth 2.1 §4.1.1), except that for loopback http URIs the port may differ (RFC 8252 §7.3:
 * native apps pick a free port at run time).
 */
export function redirectUriMatches(registered: string[], requested: string): boolean {
  if (registered.includes(requested)) return true;
  let r: URL;
  try {
    r = new URL(requested);
  } catch {
    return false;
  }
  if (r.protocol !== 'http:' || !isLoopbackHost(r.hostname)) return false;
  // Only the port may differ: a fragment or userinfo (refused at registration) never matches.
  if (requested.includes('#') || r.username || r.password) return false;
  return registered.some((reg) => {
    try {
      const g = new URL(reg);
      return g.protocol === 'http:' && g.hostname === r.hostname && g.pathname === r.pathname && g.search === r.search;
    } catch {
      return false;
    }
  });
}
