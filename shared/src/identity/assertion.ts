import { SignJWT, jwtVerify, type JWTVerifyGetKey, type CryptoKey, type KeyObject } from 'jose';
import { z } from 'zod';

/**
 * Identity assertion: a short-lived JWT the gateway signs for impersonation-mode clusters.
 * The worker verifies it and calls the apiserver with its own service account plus
 * Impersonate-User / Impersonate-Group. Lifetime is capped so a leaked assertion is nearly useless.
 */
export const ASSERTION_TYPE = 'kmg-identity+jwt';
export const MAX_ASSERTION_TTL_SECONDS = 300;

export const identityClaimsSchema = z.object({
  sub: z.string().min(1),
  groups: z.array(z.string()).default([]),
  cluster: z.string().min(1).optional(),
  client_id: z.string().optional(),
});
export type IdentityClaims = z.infer<typeof identityClaimsSchema>;

export interface SignAssertionOptions {
  issuer: string;
  audience: string;
  ttlSeconds?: number;
  keyId?: string;
  alg?: string;
}

export async function signIdentityAssertion(
  claims: IdentityClaims,
  key: CryptoKey | KeyObject | Uint8Array,
  opts: SignAssertionOptions,
): Promise<string> {
  const ttl = Math.min(opts.ttlSeconds ?? 120, MAX_ASSERTION_TTL_SECONDS);
  return new SignJWT({ groups: claims.groups, cluster: claims.cluster, client_id: claims.client_id })
    .setProtectedHeader({ alg: opts.alg ?? 'ES256', typ: ASSERTION_TYPE, ...(opts.keyId ? { kid: opts.keyId } : {}) })
    .setSubject(claims.sub)
    .setIssuer(opts.issuer)
    .setAudience(opts.audience)
    .setIssuedAt()
    .setJti(crypto.randomUUID())
    .setExpirationTime(`${ttl}s`)
    .sign(key);
}

export interface VerifyAssertionOptions {
  issuer: string;
  audience: string;
  algorithms?: string[];
  clockToleranceSeconds?: number;
  currentDate?: Date;
}

export class AssertionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AssertionError';
  }
}

/** Verifies signature, iss, aud, typ and exp, and refuses any assertion living longer than 5 minutes. */
export async function verifyIdentityAssertion(
  token: string,
  key: JWTVerifyGetKey | CryptoKey | KeyObject | Uint8Array,
  opts: VerifyAssertionOptions,
): Promise<IdentityClaims> {
  let payload;
  try {
    const verifyOpts = {
      issuer: opts.issuer,
      audience: opts.audience,
      typ: ASSERTION_TYPE,
      algorithms: opts.algorithms ?? ['ES256', 'EdDSA', 'RS256'],
      clockTolerance: opts.clockToleranceSeconds ?? 5,
      requiredClaims: ['exp', 'iat', 'sub'],
      ...(opts.currentDate ? { currentDate: opts.currentDate } : {}),
    };
    ({ payload } =
      typeof key === 'function' ? await jwtVerify(token, key, verifyOpts) : await jwtVerify(token, key, verifyOpts));
  } catch (err) {
    throw new AssertionError(`identity assertion rejected: ${(err as Error).message}`, { cause: err });
  }
  const lifetime = (payload.exp ?? 0) - (payload.iat ?? 0);
  if (lifetime > MAX_ASSERTION_TTL_SECONDS) {
    throw new AssertionError(`identity assertion lives ${lifetime}s, more than ${MAX_ASSERTION_TTL_SECONDS}s`);
  }
  const parsed = identityClaimsSchema.safeParse(payload);
  if (!parsed.success) throw new AssertionError(`identity assertion claims invalid: ${parsed.error.message}`);
  return parsed.data;
}
