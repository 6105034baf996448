import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createJwt, type JwtKeys } from './jwt.js';

const SECRET = 's'.repeat(40);
const now = () => Math.floor(Date.now() / 1000);
const claims = { sub: '01a20106-fd2e-72c0-8b82-74304750bcc7', jti: 'j1', sid: 's1', roles: ['viewer'] };

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code ?? 'no code';
  }
  return 'accepted';
}

/** A token signed like ours, with chosen changes, for the attacks below. */
function forge(overrides: { alg?: string; iss?: string; aud?: string; iat?: number; nbf?: number; exp?: number; typ?: string }, key: Uint8Array | KeyObject) {
  const t = now();
  return new SignJWT({ sid: 's1', roles: ['admin'] })
    .setProtectedHeader({ alg: overrides.alg ?? 'HS256', typ: overrides.typ ?? 'at+jwt' })
    .setSubject(claims.sub)
    .setJti('forged')
    .setIssuer(overrides.iss ?? 'opsdeck')
    .setAudience(overrides.aud ?? 'opsdeck-api')
    .setIssuedAt(overrides.iat ?? t)
    .setNotBefore(overrides.nbf ?? t)
    .setExpirationTime(overrides.exp ?? t + 600)
    .sign(key);
}

describe('access tokens (HS256)', () => {
  const keys: JwtKeys = { algorithm: 'HS256', secret: SECRET, issuer: 'opsdeck' };
  const secret = new TextEncoder().encode(SECRET);

  it('round-trips sub, jti, sid, roles, iat and exp', async () => {
    const jwt = await createJwt(keys);
    const { token, exp } = await jwt.sign(claims, 900, now());
    const verified = await jwt.verify(token);
    expect(verified).toMatchObject({ ...claims, exp });
    expect(verified.exp - verified.iat).toBe(900);
    expect(jwt.jwks()).toEqual({ keys: [] });
  });

  it('accepts a correctly forged control token (so the refusals below are meaningful)', async () => {
    const jwt = await createJwt(keys);
    expect(await codeOf(jwt.verify(await forge({}, secret)))).toBe('accepted');
  });

  it.each([
    ['expired', { iat: now() - 3600, nbf: now() - 3600, exp: now() - 60 }, 'TOKEN_EXPIRED'],
    ['not yet valid', { nbf: now() + 600 }, 'TOKEN_INVALID'],
    ['from another issuer', { iss: 'evil' }, 'TOKEN_INVALID'],
    ['for another audience', { aud: 'other-api' }, 'TOKEN_INVALID'],
    ['of another type', { typ: 'JWT' }, 'TOKEN_INVALID'],
    ['signed with HS512', { alg: 'HS512' }, 'TOKEN_INVALID'],
  ])('refuses a token %s', async (_name, overrides, code) => {
    const jwt = await createJwt(keys);
    expect(await codeOf(jwt.verify(await forge(overrides, secret)))).toBe(code);
  });

  it('refuses a token signed with another secret', async () => {
    const jwt = await createJwt(keys);
    expect(await codeOf(jwt.verify(await forge({}, new TextEncoder().encode('x'.repeat(40)))))).toBe('TOKEN_INVALID');
  });

  it('refuses alg: none', async () => {
    const jwt = await createJwt(keys);
    const t = now();
    const unsecured = new UnsecuredJWT({ sid: 's1', roles: ['admin'] })
      .setSubject(claims.sub)
      .setJti('x')
      .setIssuer('opsdeck')
      .setAudience('opsdeck-api')
      .setIssuedAt(t)
      .setNotBefore(t)
      .setExpirationTime(t + 600)
      .encode();
    expect(unsecured.split('.')[2]).toBe('');
    expect(await codeOf(jwt.verify(unsecured))).toBe('TOKEN_INVALID');
  });

  it('refuses a tampered payload or signature', async () => {
    const jwt = await createJwt(keys);
    const { token } = await jwt.sign(claims, 900, now());
    const [h, p, s] = token.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const escalated = Buffer.from(JSON.stringify({ ...payload, roles: ['admin'] })).toString('base64url');
    expect(await codeOf(jwt.verify(`${h}.${escalated}.${s}`))).toBe('TOKEN_INVALID');
    const flipped = s.slice(0, -2) + (s.endsWith('AA') ? 'BB' : 'AA');
    expect(await codeOf(jwt.verify(`${h}.${p}.${flipped}`))).toBe('TOKEN_INVALID');
    expect(await codeOf(jwt.verify('not.a.jwt'))).toBe('TOKEN_INVALID');
  });
});

describe.each(['EdDSA', 'RS256'] as const)('access tokens (%s)', (algorithm) => {
  const pair = algorithm === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const keys: JwtKeys = { algorithm, privateKeyPem: pem, issuer: 'opsdeck' };

  it('signs, verifies and publishes the public key (never the private one) as JWKS', async () => {
    const jwt = await createJwt(keys);
    const { token } = await jwt.sign(claims, 900, now());
    expect(await jwt.verify(token)).toMatchObject(claims);
    const { keys: published } = jwt.jwks();
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ alg: algorithm, use: 'sig', kid: expect.any(String) });
    expect(published[0]).not.toHaveProperty('d');
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid).toBe(published[0]!.kid);
  });

  it('refuses algorithm confusion: an HS256 token keyed with the public key', async () => {
    const jwt = await createJwt(keys);
    const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(await codeOf(jwt.verify(await forge({ alg: 'HS256' }, new TextEncoder().encode(publicPem))))).toBe('TOKEN_INVALID');
  });

  it('refuses a token signed by another key pair', async () => {
    const jwt = await createJwt(keys);
    const other = algorithm === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(await codeOf(jwt.verify(await forge({ alg: algorithm }, other.privateKey)))).toBe('TOKEN_INVALID');
  });

  it('refuses a private key of the wrong type at start', async () => {
    const wrong = (algorithm === 'EdDSA' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519')).privateKey;
    await expect(createJwt({ ...keys, privateKeyPem: wrong.export({ type: 'pkcs8', format: 'pem' }).toString() })).rejects.toThrow(/needs an/);
  });
});
