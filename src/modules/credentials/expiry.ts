import type { Db } from '../../platform/db/database.js';
import type { DomainEvents } from '../../platform/events/domain-events.js';
import { nowIso } from '../../platform/ids.js';
import { createCredentialsRepository } from './credentials.repository.js';

export const CREDENTIAL_EXPIRED = 'credential.expired';

/**
 * camelCase keys: the outbox stores payloads as jsonb on PostgreSQL, where CamelCasePlugin
 * rewrites snake_case keys on read, so snake_case would differ between the dialects.
 */
export interface CredentialExpiredPayload {
  id: string;
  name: string;
  type: string;
  teamId: string | null;
  expiresAt: string;
}

/**
 * Announces each credential passing its `expires_at` once, as the domain event
 * `credential.expired` (bus channel `event:credential.expired`). The claim is a conditional
 * update in the event's transaction, so several scheduler nodes announce it exactly once;
 * moving `expires_at` re-arms it.
 */
export function createExpiryWatch(deps: {
  db: Db;
  events: Pick<DomainEvents, 'record' | 'relay'>;
  logger: { error(o: object, m: string): void };
  clock?: () => number;
}) {
  const clock = deps.clock ?? Date.now;
  const repo = createCredentialsRepository(deps.db);

  async function check(): Promise<number> {
    const now = nowIso(clock);
    let announced = 0;
    for (;;) {
      const due = await repo.dueForExpiry(now, 200);
      if (due.length === 0) break;
      for (const c of due) {
        const claimed = await deps.db.transaction().execute(async (trx) => {
          if (!(await createCredentialsRepository(trx).claimExpiry(c.id, c.expiresAt!, now))) return false;
          const payload: CredentialExpiredPayload = { id: c.id, name: c.name, type: c.type, teamId: c.teamId, expiresAt: c.expiresAt! };
          await deps.events.record(trx, CREDENTIAL_EXPIRED, payload);
          return true;
        });
        if (claimed) announced++;
      }
    }
    if (announced > 0) await deps.events.relay();
    return announced;
  }

  return {
    /** Announces every credential expired by now; resolves with how many were announced. */
    check,
    /** Checks now and then every `intervalMs`; returns the stop function (waits for a check in flight). */
    start(intervalMs: number): () => Promise<void> {
      let running: Promise<unknown> = Promise.resolve();
      const tick = () => {
        running = check().catch((err: unknown) => deps.logger.error({ err }, 'credential expiry check failed'));
      };
      tick();
      const timer = setInterval(tick, intervalMs);
      timer.unref();
      return async () => {
        clearInterval(timer);
        await running;
      };
    },
  };
}

export type ExpiryWatch = ReturnType<typeof createExpiryWatch>;
