import type { Db, Write } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/auth.js';

/** An entry of identity's audit log. */
export interface AuditEntry {
  actor: Actor;
  action: string;
  resourceType: string;
  resourceId?: string | null;
  outcome: 'success' | 'failure' | 'denied';
  changes?: Record<string, unknown> | null;
}

/** Identity's audit log: written in the same transaction as the change it describes. */
export interface AuditRecorder {
  record(db: Db, entry: AuditEntry): Promise<void>;
  /** The write recording entries, to run within the caller's own atomic write. */
  recordWrite(entries: readonly AuditEntry[]): Write;
}
