import type { Db } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/auth.js';

/**
 * What the vault needs from other modules, narrowed to the calls it makes. Identity provides
 * the real ones (wired in modules.ts); tests may pass their own.
 */
export interface AuditEntry {
  actor: Actor;
  action: string;
  resourceType: string;
  resourceId?: string;
  outcome: 'success' | 'failure' | 'denied';
  changes?: Record<string, unknown>;
}

export interface AuditRecorder {
  /** Writes one audit record with the given handle (the caller's transaction). */
  record(dbOrTrx: Db, entry: AuditEntry): Promise<unknown>;
}

export interface StepUp {
  /** Resolves when the actor has no 2FA or `totp` is a fresh valid code; throws a 401/403 AppError otherwise. */
  require(actor: Actor, totp: string | undefined): Promise<unknown>;
}

/** The plaintext of a credential, handed to executors by `resolve` and to nobody else. */
export interface ResolvedCredential {
  id: string;
  name: string;
  type: string;
  /** Public fields: username, security_level, auth_protocol, priv_protocol, header_name, certificate, transport. */
  attributes: Record<string, string>;
  /** Secret fields: password, private_key, passphrase, enable_secret, community, auth_key, priv_key, token. */
  secrets: Record<string, string>;
}
