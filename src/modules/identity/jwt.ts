import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, errors as joseErrors, exportJWK, jwtVerify, type JWK } from 'jose';
import { UnauthorizedError } from '../../platform/errors.js';

export type JwtAlgorithm = 'HS256' | 'EdDSA' | 'RS256';

export interface AccessClaims {
  sub: string;
  jti: string;
  /** The session (refresh-token family) this token belongs to. */
  sid: string;
  roles: string[];
  iat: number;
  exp: number;
  /** Seconds since epoch when the holder last proved a TOTP code (login), if any. */
  mfa?: number;
  /** Seconds since epoch when the holder signed in with a password (login, re-authentication); refreshed tokens have none. */
  auth?: number;
}

export interface JwtKeys {
  algorithm: JwtAlgorithm;
  /** HS256 secret */
  secret?: string;
  /** PKCS#8 PEM for EdDSA / RS256 */
  privateKeyPem?: string;
  issuer: string;
}

const AUDIENCE = 'opsdeck-api';

/**
 * Signs and verifies access tokens with exactly one configured algorithm: `jwtVerify` is
 * given that algorithm alone, so `alg: none`, HS/RS confusion and foreign keys are refused.
 */
export async function createJwt(keys: JwtKeys) {
  let signKey: KeyObject | Uint8Array;
  let verifyKey: KeyObject | Uint8Array;
  let publicJwk: (JWK & { kid: string }) | null = null;
  if (keys.algorithm === 'HS256') {
    if (!keys.secret) throw new Error('HS256 needs a secret');
    signKey = verifyKey = new TextEncoder().encode(keys.secret);
  } else {
    if (!keys.privateKeyPem) throw new Error(`${keys.algorithm} needs a private key`);
    const priv = createPrivateKey(keys.privateKeyPem);
    const expected = keys.algorithm === 'EdDSA' ? 'ed25519' : 'rsa';
    if (priv.asymmetricKeyType !== expected) throw new Error(`${keys.algorithm} needs an ${expected} private key, got ${priv.asymmetricKeyType ?? 'unknown'}`);
    signKey = priv;
    verifyKey = createPublicKey(priv);
    const jwk = await exportJWK(verifyKey);
    publicJwk = { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: keys.algorithm, use: 'sig' };
  }
  const header = { alg: keys.algorithm, typ: 'at+jwt', ...(publicJwk ? { kid: publicJwk.kid } : {}) };

  return {
    algorithm: keys.algorithm,
    async sign(claims: Omit<AccessClaims, 'iat' | 'exp'>, ttlSeconds: number, nowSeconds: number): Promise<{ token: string; exp: number }> {
      const exp = nowSeconds + ttlSeconds;
      const { sub, jti, ...rest } = claims;
      const token = await new SignJWT({ ...rest })
        .setProtectedHeader(header)
        .setSubject(sub)
        .setJti(jti)
        .setIssuer(keys.issuer)
        .setAudience(AUDIENCE)
        .setIssuedAt(nowSeconds)
        .setNotBefore(nowSeconds)
        .setExpirationTime(exp)
        .sign(signKey);
      return { token, exp };
    },
    /** Verifies signature, algorithm, issuer, audience and time; throws 401 with a precise code. */
    async verify(token: string): Promise<AccessClaims> {
      try {
        const { payload } = await jwtVerify(token, verifyKey, {
          algorithms: [keys.algorithm],
          issuer: keys.issuer,
          audience: AUDIENCE,
          typ: 'at+jwt',
          requiredClaims: ['sub', 'jti', 'iat', 'exp', 'nbf'],
          clockTolerance: 5,
        });
        if (typeof payload.sid !== 'string' || !Array.isArray(payload.roles)) throw new UnauthorizedError('TOKEN_INVALID', 'The access token is invalid');
        return payload as unknown as AccessClaims;
      } catch (err) {
        if (err instanceof UnauthorizedError) throw err;
        if (err instanceof joseErrors.JWTExpired) throw new UnauthorizedError('TOKEN_EXPIRED', 'The access token has expired; refresh it');
        throw new UnauthorizedError('TOKEN_INVALID', 'The access token is invalid');
      }
    },
    /** Public keys for `/auth/jwks.json`; empty for HS256 (a shared secret is never published). */
    jwks(): { keys: (JWK & { kid: string })[] } {
      return { keys: publicJwk ? [publicJwk] : [] };
    },
  };
}
export type Jwt = Awaited<ReturnType<typeof createJwt>>;
