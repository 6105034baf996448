import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMemoryBus } from '../src/platform/bus/index.js';
import { createDomainEvents } from '../src/platform/events/domain-events.js';
import { SYSTEM_ACTOR } from '../src/platform/http/auth.js';
import { createLogger } from '../src/platform/observability/logger.js';
import { createAuditService } from '../src/modules/identity/index.js';
import { createInventoryModule } from '../src/modules/inventory/index.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './helpers/db.js';
import { statementCounter } from './helpers/statements.js';

/**
 * Statements per write (docs/architecture.md "Writes"): counted at the driver, with nothing else
 * running on the database. A device create is its transaction (reference look-ups, the row, its
 * tags, and its event and audit entry together), the read-back of the view, and the relay.
 */
const counter = statementCounter();
afterAll(() => counter.restore());

describe.each(DIALECTS)('statements per device write on %s', (dialect) => {
  let tdb: TestDatabase;
  let inventory: ReturnType<typeof createInventoryModule>;
  let relaying: Promise<void> = Promise.resolve();
  const published: string[] = [];

  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    const db = tdb.database.db;
    const bus = createMemoryBus();
    await bus.subscribe('event:*', (msg) => void published.push((msg as { name: string }).name));
    const logger = createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, done) => done() }) });
    const events = createDomainEvents({ db, bus, logger });
    inventory = createInventoryModule({
      db,
      dialect,
      logger,
      audit: createAuditService({ db }),
      // The relay after commit, awaited by the test so its statements are counted with the write.
      events: { ...events, relay: () => (relaying = events.relay()) },
    });
    await inventory.services.roles.create(SYSTEM_ACTOR, { name: 'core', color: 'FF0000' });
    await inventory.services.tags.create(SYSTEM_ACTOR, { name: 'edge' });
    await relaying;
  });
  afterAll(() => tdb.drop());

  const create = async (name: string) => {
    const device = await inventory.services.devices.create(SYSTEM_ACTOR, { name, role: 'core', tags: ['edge'], primary_ip4: '10.0.0.1' });
    await relaying;
    return device;
  };

  it('a create with a reference and a tag takes at most 14 statements, relay included', async () => {
    await create('warm-up'); // PostgreSQL's column types are read once per table
    const { n, sql } = await counter.count(() => create('core-1'));
    await vi.waitFor(() => expect(published).toContain('device.created'));
    // Before (PostgreSQL): 11 in the write, 2 in the read-back, 10 in the relay = 23.
    expect(n, sql.join('\n')).toBeLessThanOrEqual(dialect === 'postgres' ? 16 : 14);
    // The event and the audit entry: one statement on PostgreSQL, one insert per table on SQLite.
    expect(sql.filter((s) => /domain_events|audit_log/.test(s) && /^(insert|with)/i.test(s.trim()))).toHaveLength(dialect === 'postgres' ? 1 : 2);
  });

  it('a bulk create of 200 writes its events and audit entries in one statement', async () => {
    const items = Array.from({ length: 200 }, (_, i) => ({ name: `bulk-${i}`, role: 'core' }));
    const { sql } = await counter.count(async () => {
      await inventory.services.devices.bulkCreate(SYSTEM_ACTOR, items);
      await relaying;
    });
    expect(sql.filter((s) => /audit_log/.test(s))).toHaveLength(1);
  });
});
