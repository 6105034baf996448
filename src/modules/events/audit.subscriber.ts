import type { Db } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/auth.js';
import type { StoredEvent } from './events.repository.js';
import type { Subscriber } from './subscribers.js';

/** The slice of identity's audit service a subscriber writes with. */
export interface AuditPort {
  record(
    db: Db,
    entry: { actor: Actor; action: string; resourceType: string; resourceId?: string | null; outcome: 'success'; changes?: Record<string, unknown> | null },
  ): Promise<void>;
}

interface ActorRef {
  kind?: 'user' | 'api_key' | 'system';
  id?: string;
  name?: string;
  ip?: string;
  request_id?: string;
}

/** The acting principal as the event recorded it (no permissions: it only names who acted). */
function actorOf(ref: ActorRef | undefined): Actor {
  return {
    kind: ref?.kind ?? 'system',
    id: ref?.id ?? '00000000-0000-0000-0000-000000000000',
    name: ref?.name ?? 'system',
    permissions: new Set(),
    teamIds: [],
    ...(ref?.ip ? { ip: ref.ip } : {}),
    ...(ref?.request_id ? { requestId: ref.request_id } : {}),
  };
}

/**
 * Writes the audit record of job-template changes from their domain events
 * (`job_template.created|updated|deleted`), in the transaction that consumes the event: a
 * template change is audited exactly once, even across restarts.
 */
export function createTemplateAuditSubscriber(audit: AuditPort): Subscriber {
  return {
    name: 'audit.job_templates',
    events: ['job_template.*'],
    async handle(db: Db, event: StoredEvent): Promise<void> {
      const p = (event.payload ?? {}) as { id?: string; name?: string; fields?: string[]; actor?: ActorRef };
      await audit.record(db, {
        actor: actorOf(p.actor),
        action: event.name,
        resourceType: 'job_template',
        resourceId: p.id ?? null,
        outcome: 'success',
        changes: { name: p.name ?? null, ...(p.fields ? { fields: p.fields } : {}), event_id: event.id },
      });
    },
  };
}
