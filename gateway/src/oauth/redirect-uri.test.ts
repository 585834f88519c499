import { describe, expect, it } from 'vitest';
import { redirectUriMatches } from './redirect-uri.js';

describe('redirect URI matching at /authorize', () => {
  const registered = ['http://127.0.0.1:41999/callback', 'https://app.example/cb'];

  it('lets a loopback redirect URI differ in its port only (RFC 8252 §7.3)', () => {
    expect(redirectUriMatches(registered, 'http://127.0.0.1:5555/callback')).toBe(true);
  });

  it.each([
    ['a fragment', 'http://127.0.0.1:41999/callback#evil'],
    ['a fragment on another port', 'http://127.0.0.1:5555/callback#evil'],
    ['an empty fragment', 'http://127.0.0.1:41999/callback#'],
    ['userinfo', 'http://user:pw@127.0.0.1:41999/callback'],
    ['another path', 'http://127.0.0.1:41999/callbackevil'],
    ['another host', 'http://127.0.0.2:41999/callback'],
    ['an https URI with another port', 'https://app.example:444/cb'],
  ])('refuses a requested URI with %s', (_what, requested) => {
    expect(redirectUriMatches(registered, requested)).toBe(false);
  });
});
