import type { Db } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/auth.js';

/** The domain event announcing a security event to its account's owner (docs: identity README). */
export const SECURITY_EVENT = 'security.event';

/**
 * Audit actions that are security events of an account, by the resource the entry is about:
 * `user` entries belong to the user they name; `session` and `api_key` entries to the user who
 * acted (the owner of the session or key).
 */
export const SECURITY_ACTIONS = {
  user: [
    'auth.login.failed',
    'auth.login.locked',
    'auth.lockout',
    'auth.2fa.enabled',
    'auth.2fa.disabled',
    'auth.2fa.recovery_code_used',
    'auth.2fa.recovery_codes_regenerated',
    'auth.step_up.failed',
    'user.password_changed',
    'user.password_reset',
  ],
  session: ['auth.token.reuse_detected'],
  api_key: ['api_key.created', 'api_key.revoked', 'api_key.rotated'],
} as const satisfies Record<string, readonly string[]>;

/** The account a security event belongs to, or null when the entry is not one. */
export function securityEventOwner(entry: { actor: Actor; action: string; resourceType: string; resourceId?: string | null | undefined }): string | null {
  const actions = (SECURITY_ACTIONS as Record<string, readonly string[]>)[entry.resourceType];
  if (!actions?.includes(entry.action)) return null;
  const owner = entry.resourceType === 'user' ? entry.resourceId : (entry.actor.userId ?? entry.actor.id);
  return owner ? owner : null;
}

/** Where security events go once recorded: the domain-event outbox (relayed after commit). */
export interface SecurityEventSink {
  record(trx: Db, name: string, payload: unknown): Promise<unknown>;
}
