import { describe, it, expect } from 'vitest';
import { generateKeyPair, SignJWT } from 'jose';
import { signIdentityAssertion, verifyIdentityAssertion, AssertionError, ASSERTION_TYPE } from './assertion.js';

const opts = { issuer: 'https://gw.example', audience: 'worker-a' };

describe('identity assertions', () => {
  it('round-trips user and groups for the intended worker', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwt = await signIdentityAssertion({ sub: 'alice', groups: ['k8s-admins'] }, privateKey, opts);
    const claims = await verifyIdentityAssertion(jwt, publicKey, opts);
    expect(claims).toMatchObject({ sub: 'alice', groups: ['k8s-admins'] });
  });

  it('refuses an assertion meant for another worker', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwt = await signIdentityAssertion({ sub: 'alice', groups: [] }, privateKey, { ...opts, audience: 'worker-b' });
    await expect(verifyIdentityAssertion(jwt, publicKey, opts)).rejects.toBeInstanceOf(AssertionError);
  });

  it('refuses an assertion signed by another key (forged)', async () => {
    const signer = await generateKeyPair('ES256');
    const other = await generateKeyPair('ES256');
    const jwt = await signIdentityAssertion({ sub: 'alice', groups: [] }, signer.privateKey, opts);
    await expect(verifyIdentityAssertion(jwt, other.publicKey, opts)).rejects.toThrow(/signature/);
  });

  it('refuses an expired assertion', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwt = await signIdentityAssertion({ sub: 'alice', groups: [] }, privateKey, { ...opts, ttlSeconds: 60 });
    const later = new Date(Date.now() + 10 * 60_000);
    await expect(verifyIdentityAssertion(jwt, publicKey, { ...opts, currentDate: later })).rejects.toThrow(/exp/);
  });

  it('refuses an assertion that lives longer than five minutes', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwt = await new SignJWT({ groups: [] })
      .setProtectedHeader({ alg: 'ES256', typ: ASSERTION_TYPE })
      .setSubject('alice').setIssuer(opts.issuer).setAudience(opts.audience)
      .setIssuedAt().setExpirationTime('1h').sign(privateKey);
    await expect(verifyIdentityAssertion(jwt, publicKey, opts)).rejects.toThrow(/more than 300s/);
  });
});
