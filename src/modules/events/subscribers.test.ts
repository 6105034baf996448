import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, useTestDatabase } from '../../../test/helpers/db.js';
import { redisTestUrl } from '../../../test/helpers/redis.js';
import { createEventBus } from '../../platform/bus/index.js';
import type { EventBus } from '../../platform/bus/event-bus.js';
import type { Db } from '../../platform/db/database.js';
import { createDomainEvents, type DomainEvents } from '../../platform/events/domain-events.js';
import { newId } from '../../platform/ids.js';
import { createLogger } from '../../platform/observability/logger.js';
import { createEventsRepository } from './events.repository.js';
import { createSubscriberRunner, type Subscriber } from './subscribers.js';

const logger = createLogger({ level: 'silent' });

/** A subscriber that remembers what it handled, per name. */
function recorder(name: string, events: string[] = ['*']) {
  const seen: string[] = [];
  let failNext = 0;
  const sub: Subscriber = {
    name,
    events,
    async handle(_db: Db, event) {
      if (failNext > 0) {
        failNext -= 1;
        throw new Error('handler failed');
      }
      seen.push((event.payload as { v: string }).v);
    },
  };
  return { sub, seen, failNext: (n: number) => (failNext = n) };
}

describe.each(DIALECTS)('event subscribers on %s', (dialect) => {
  const test = useTestDatabase(dialect);
  let bus: EventBus;
  let outbox: DomainEvents;
  const db = () => test().database.db;

  beforeAll(() => {
    bus = createEventBus({ ...(dialect === 'postgres' ? { redisUrl: redisTestUrl() } : {}), logger });
    outbox = createDomainEvents({ db: db(), bus, logger });
  });
  afterAll(async () => {
    await bus.close();
  });

  const runners: ReturnType<typeof createSubscriberRunner>[] = [];
  const runner = (subs: Subscriber[]) => {
    const r = createSubscriberRunner({ db: db(), bus, logger, relay: () => outbox.relay(), pollMs: 60_000, batchSize: 3 });
    for (const s of subs) r.add(s);
    runners.push(r);
    return r;
  };
  async function emit(name: string, payloads: string[]): Promise<void> {
    for (const p of payloads) await outbox.record(db(), name, { v: p });
    await outbox.relay();
  }

  it('delivers each event once, in order, and a new instance (a restart) catches up from the stored cursor', async () => {
    const tag = newId().slice(-6);
    const first = recorder(`restart-${tag}`, [`t${tag}.*`]);
    const r1 = runner([first.sub]);
    await r1.register();
    await emit(`t${tag}.a`, ['1', '2', '3', '4']);
    await emit(`other${tag}.x`, ['ignored']);
    await r1.drain();
    expect(first.seen).toEqual(['1', '2', '3', '4']);

    // "Down": events happen while nothing consumes this subscriber.
    await emit(`t${tag}.b`, ['5', '6', '7']);
    const second = recorder(`restart-${tag}`, [`t${tag}.*`]);
    const r2 = runner([second.sub]);
    await r2.register();
    await r2.drain();
    expect(second.seen).toEqual(['5', '6', '7']);
  });

  it('a failing handler rolls its batch back and the events are handled again on the next drain (at-least-once)', async () => {
    const tag = newId().slice(-6);
    const rec = recorder(`retry-${tag}`, [`r${tag}.*`]);
    const r = runner([rec.sub]);
    await r.register();
    await emit(`r${tag}.x`, ['a', 'b']);
    rec.failNext(1);
    await r.drain();
    expect(rec.seen).toEqual([]);
    const [row] = (await createEventsRepository(db()).subscribers()).filter((s) => s.name === `retry-${tag}`);
    expect(row?.lastError).toBe('handler failed');
    await r.drain();
    expect(rec.seen).toEqual(['a', 'b']);
  });

  it('an event committed after a later one was relayed is still delivered (the cursor follows relay order, not ids)', async () => {
    const tag = newId().slice(-6);
    const rec = recorder(`late-${tag}`, [`l${tag}.*`]);
    const r = runner([rec.sub]);
    await r.register();
    // An id taken before the newer event's, written after it was relayed and consumed: what a
    // transaction that started first and committed last leaves in the outbox.
    const olderId = newId();
    await emit(`l${tag}.x`, ['newer id']);
    await r.drain();
    await db()
      .withTables<{ domainEvents: { id: string; name: string; payload: string; createdAt: string; relayedAt: null } }>()
      .insertInto('domainEvents')
      .values({
        id: olderId,
        name: `l${tag}.x`,
        payload: JSON.stringify({ v: 'older id, committed late' }),
        createdAt: new Date().toISOString(),
        relayedAt: null,
      })
      .execute();
    await outbox.relay();
    await r.drain();
    expect(rec.seen).toEqual(['newer id', 'older id, committed late']);
  });

  it('two runners (two nodes) on one subscriber handle every event exactly once between them', async () => {
    const tag = newId().slice(-6);
    const a = recorder(`pair-${tag}`, [`p${tag}.*`]);
    const b = recorder(`pair-${tag}`, [`p${tag}.*`]);
    const ra = runner([a.sub]);
    const rb = runner([b.sub]);
    await ra.register();
    await rb.register();
    await emit(
      `p${tag}.x`,
      Array.from({ length: 20 }, (_, i) => String(i)),
    );
    await Promise.all([ra.drain(), rb.drain(), ra.drain(), rb.drain()]);
    await Promise.all([ra.drain(), rb.drain()]);
    const all = [...a.seen, ...b.seen].map(Number).sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('prunes only events past retention that every subscriber has consumed, and the relay keeps counting after it', async () => {
    const repo = createEventsRepository(db());
    const tag = newId().slice(-6);
    const fast = recorder(`prune-fast-${tag}`, [`q${tag}.*`]);
    const slow = recorder(`prune-slow-${tag}`, [`q${tag}.*`]);
    const rf = runner([fast.sub]);
    const rs = runner([slow.sub]);
    await rf.register();
    await rs.register();
    // Everything the earlier tests left behind is consumed by their subscribers; these two start at 0.
    await emit(`q${tag}.x`, ['1', '2']);
    await rf.drain();
    const count = async () =>
      (await repo.readAfter({ seq: 0, id: '00000000-0000-0000-0000-000000000000' }, 10_000)).filter((e) => e.name === `q${tag}.x`).length;
    const future = new Date(Date.now() + 30 * 86_400_000).toISOString();
    expect(await repo.prune(future)).toBe(0);
    expect(await count()).toBe(2);

    await rs.drain();
    await emit(`q${tag}.y`, ['3']);
    await rf.drain();
    await rs.drain();
    // Within retention nothing goes, however consumed.
    expect(await repo.prune(new Date(Date.now() - 86_400_000).toISOString())).toBe(0);
    // Past retention and consumed by all: gone, except the newest batch (the relay counts on from it).
    // Subscribers other tests of this file registered consume everything too.
    for (const other of runners) await other.drain();
    const head = await repo.head();
    for (const sub of await repo.subscribers()) expect(sub.cursor).toEqual(head);
    const before = await repo.head();
    expect(await repo.prune(future)).toBeGreaterThan(0);
    expect(await count()).toBe(0);
    expect(await repo.head()).toEqual(before);
    await emit(`q${tag}.z`, ['4']);
    await rf.drain();
    expect(fast.seen).toEqual(['1', '2', '3', '4']);
    expect((await repo.head()).seq).toBe(before.seq + 1);
  });
});
