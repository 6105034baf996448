import type { Db } from '../../platform/db/database.js';
import type { EventBus } from '../../platform/bus/index.js';
import type { Logger } from '../../platform/observability/logger.js';
import { createSessionsRepository } from './sessions.repository.js';

export interface Revocation {
  id: string;
  kind: 'jti' | 'sid';
  expiresAt: string;
}

const CHANNEL = 'identity:revoked';
/** Rows are stamped by the node that wrote them; re-reading a margin tolerates clock skew between nodes. */
const RESYNC_MARGIN_MS = 60_000;

/**
 * Revoked access-token ids and session ids, held in memory on every node so the check costs
 * a Set lookup, not a database round trip. Fed three ways: loaded at start, pushed over the
 * bus when any node revokes (Redis pub/sub in a cluster), and re-read from the database every
 * `resyncMs`, because pub/sub is at-most-once and a node that missed a message must converge.
 */
export function createRevocationList(deps: { db: Db; bus: EventBus; logger: Pick<Logger, 'warn'>; clock: () => number; resyncMs?: number }) {
  const revoked = new Map<string, number>();
  let lastSync = 0;
  let rounds = 0;
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;
  let closed = false;

  const add = (r: Revocation): void => {
    const exp = Date.parse(r.expiresAt);
    if (exp > deps.clock()) revoked.set(r.id, exp);
  };

  async function resync(): Promise<void> {
    const started = deps.clock();
    const now = new Date(started).toISOString();
    const repo = createSessionsRepository(deps.db);
    for (const r of await repo.revocationsSince(new Date(Math.max(0, lastSync - RESYNC_MARGIN_MS)).toISOString(), now)) add(r);
    lastSync = started;
    for (const [id, exp] of revoked) if (exp <= started) revoked.delete(id);
    // Every node may prune; the delete is idempotent and rare.
    if ((rounds += 1) % 720 === 0) await repo.pruneRevocations(now);
  }

  return {
    async start(): Promise<void> {
      // Not awaited: with Redis down the node still starts (readiness reports it) and the
      // periodic resync keeps revocations converging until the subscription is up.
      const subscribing = deps.bus.subscribe(CHANNEL, (message) => {
        for (const r of (message as { revocations?: Revocation[] }).revocations ?? []) add(r);
      });
      subscribing.then(
        (off) => {
          if (closed) void off();
          else unsubscribe = off;
        },
        (err: unknown) => deps.logger.warn({ err }, 'revocation subscription failed; relying on resync'),
      );
      await resync();
      timer = setInterval(() => {
        resync().catch((err: unknown) => deps.logger.warn({ err }, 'revocation resync failed'));
      }, deps.resyncMs ?? 5_000);
      timer.unref();
    },
    has(id: string): boolean {
      const exp = revoked.get(id);
      return exp !== undefined && exp > deps.clock();
    },
    /** Writes revocations in the caller's transaction; call `publish` after commit. */
    async record(trx: Db, entries: Revocation[], now: string): Promise<void> {
      await createSessionsRepository(trx).revoke(entries, now);
    },
    /** Applies locally at once and tells the other nodes. */
    async publish(entries: Revocation[]): Promise<void> {
      if (entries.length === 0) return;
      for (const r of entries) add(r);
      await deps.bus.publish(CHANNEL, { revocations: entries });
    },
    async close(): Promise<void> {
      closed = true;
      if (timer) clearInterval(timer);
      await unsubscribe?.().catch(() => undefined);
    },
    size: () => revoked.size,
  };
}
export type RevocationList = ReturnType<typeof createRevocationList>;
