import type { Actor } from '../../platform/http/auth.js';

/** Step-up: `await stepUp(actor, code?)` throws unless the acting session is fresh (two-factor.service.ts#requireStepUp). */
export type StepUp = (actor: Actor, code?: string | null) => Promise<void>;

/** Rights that make a grant sensitive to hand out: everything, administration, or revealing secrets. */
export function isPrivileged(permissions: Iterable<string> | '*'): boolean {
  if (permissions === '*') return true;
  for (const p of permissions) if (p === '*' || p.endsWith(':admin') || p.endsWith(':reveal')) return true;
  return false;
}
