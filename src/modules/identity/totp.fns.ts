import { generateSecret, generateURI, verify } from 'otplib';

export const TOTP_ISSUER = 'Opsdeck';

export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

export function totpUri(secret: string, account: string): string {
  return generateURI({ issuer: TOTP_ISSUER, label: account, secret });
}

export const isTotpCode = (code: string) => /^\d{6}$/.test(code);

/**
 * Checks a 6-digit code with ±1 step of clock drift; returns the matched time step so the
 * caller can refuse it next time (a code is accepted once), or null.
 */
export async function checkTotp(secret: string, code: string, afterTimeStep: number | null, nowMs: number): Promise<number | null> {
  if (!isTotpCode(code)) return null;
  const result = await verify({
    secret,
    token: code,
    epoch: Math.floor(nowMs / 1000),
    epochTolerance: 30,
    ...(afterTimeStep !== null ? { afterTimeStep } : {}),
  });
  return result.valid && 'timeStep' in result ? result.timeStep : null;
}
