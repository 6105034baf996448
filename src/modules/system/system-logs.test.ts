import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, createTestDatabase } from '../../../test/helpers/db.js';
import { adminToken, bearer } from '../../../test/helpers/auth.js';
import { LogCapture, useTestServer } from '../../../test/helpers/server.js';
import { createMemoryBus } from '../../platform/bus/index.js';
import { createLogger } from '../../platform/observability/logger.js';
import { SYSTEM_ACTOR } from '../../platform/http/auth.js';
import { createSystemLogs } from './system-logs.service.js';
import { createSystemLogsRepository } from './system-logs.repository.js';
import { LOG_LEVELS, LOG_SOURCES, toEntry } from './system-logs.fns.js';
import { LogItem } from './system.schemas.js';

describe('system log entries from log lines', () => {
  const line = (o: object) => JSON.stringify({ level: 40, time: '2026-12-07T10:00:00.000Z', pid: 1, ...o });
  it.each([
    [{ msg: 'x' }, 'api'],
    [{ msg: 'x', module: 'schedules' }, 'scheduler'],
    [{ msg: 'x', module: 'jobs' }, 'worker'],
    [{ msg: 'x', module: 'jobs', executor: 'ssh_command' }, 'executor'],
    [{ msg: 'login failed' }, 'auth'],
    [{ msg: 'x', source: 'workflow' }, 'workflow'],
  ])('names the source of %j: %s', (o, source) => {
    expect(toEntry(line(o), 'n1')?.source).toBe(source);
  });

  it('keeps warn and worse, info only when marked persist, never its own complaints', () => {
    expect(toEntry(line({ level: 30, msg: 'x' }), 'n')).toBeNull();
    expect(toEntry(line({ level: 30, msg: 'x', persist: true }), 'n')?.level).toBe('info');
    expect(toEntry(line({ level: 50, msg: 'x', nopersist: true }), 'n')).toBeNull();
    expect(toEntry(line({ level: 60, msg: 'x' }), 'n')?.level).toBe('fatal');
    expect(toEntry('not json', 'n')).toBeNull();
  });

  it('bounds the fields it keeps', () => {
    const e = toEntry(line({ msg: 'x', a: 'y'.repeat(3000), b: 'z'.repeat(3000) }), 'n')!;
    expect(e.fields).toEqual({ a: 'y'.repeat(3000), _truncated: true });
  });

  it('answers the levels and sources the API schema lists', () => {
    const props = LogItem.properties as unknown as Record<string, { anyOf: { const: string }[] }>;
    expect(props.level!.anyOf.map((l) => l.const)).toEqual([...LOG_LEVELS]);
    expect(props.source!.anyOf.map((l) => l.const)).toEqual([...LOG_SOURCES]);
  });
});

describe.each(DIALECTS)('system logs on %s', (dialect) => {
  const server = useTestServer(dialect);
  let token = '';
  beforeAll(async () => {
    token = await adminToken(server());
  });
  const logs = async (query: string) => {
    const res = await server().app.inject({ method: 'GET', url: `/api/v1/system/logs?${query}`, headers: bearer(token) });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as {
      items: { id: number; level: string; source: string; message: string; fields: Record<string, unknown> }[];
      next_cursor: string | null;
    };
  };
  const tag = () => Math.random().toString(36).slice(2, 10);

  it('persists warnings with their redacted fields, and finds them by level, source and text', async () => {
    const t = tag();
    const { logger, systemLogs } = server().modules;
    logger.warn({ deviceId: 'd1', password: 'hunter2-Secret-Value' }, `device unreachable ${t}`);
    logger.child({ module: 'schedules' }).error({ scheduleId: 's1' }, `tick failed ${t}`);
    logger.info(`plain info ${t}`);
    logger.info({ persist: true }, `kept info ${t}`);
    await systemLogs.flush();

    const all = await logs(`q=${t}`);
    expect(all.items.map((i) => i.message)).toEqual([`kept info ${t}`, `tick failed ${t}`, `device unreachable ${t}`]);
    expect(all.items[2]!.fields).toMatchObject({ deviceId: 'd1', password: '[REDACTED]' });
    expect(JSON.stringify(all)).not.toContain('hunter2');
    expect((await logs(`q=${t}&level=warn`)).items.map((i) => i.level)).toEqual(['error', 'warn']);
    expect((await logs(`q=${t}&source=scheduler`)).items.map((i) => i.message)).toEqual([`tick failed ${t}`]);
    expect((await logs(`q=${t}&since=2999-01-01T00:00:00Z`)).items).toEqual([]);
    expect((await logs(`q=${t.toUpperCase()}&level=error`)).items).toHaveLength(1);
  });

  it('pages newest first with a cursor, and refuses a bad one', async () => {
    const t = tag();
    for (let i = 0; i < 3; i += 1) server().modules.logger.warn(`page ${t} ${i}`);
    await server().modules.systemLogs.flush();
    const first = await logs(`q=${t}&limit=2`);
    expect(first.items.map((i) => i.message)).toEqual([`page ${t} 2`, `page ${t} 1`]);
    const second = await logs(`q=${t}&limit=2&cursor=${first.next_cursor}`);
    expect(second).toEqual({ items: [expect.objectContaining({ message: `page ${t} 0` })], next_cursor: null });
    const bad = await server().app.inject({ method: 'GET', url: '/api/v1/system/logs?cursor=nope', headers: bearer(token) });
    expect(bad.statusCode).toBe(400);
  });

  it('treats %_ in the search text literally', async () => {
    const t = tag();
    server().modules.logger.warn(`disk 100% full ${t}`);
    server().modules.logger.warn(`disk 1000 full ${t}`);
    await server().modules.systemLogs.flush();
    expect((await logs(`q=${encodeURIComponent(`0% full ${t}`)}`)).items.map((i) => i.message)).toEqual([`disk 100% full ${t}`]);
  });

  it('applies retention by age (the live logs settings) and by count', async () => {
    const { database, systemLogs } = server().modules;
    const repo = createSystemLogsRepository(database.db);
    const t = tag();
    const old = new Date(Date.now() - 3 * 86_400_000).toISOString();
    await repo.insert([{ time: old, level: 'error', source: 'worker', node: 'n', message: `old ${t}`, fields: {} }]);
    await systemLogs.prune();
    expect((await logs(`q=${t}`)).items).toHaveLength(1);
    const set = await server().app.inject({ method: 'PATCH', url: '/api/v1/settings/logs', headers: bearer(token), payload: { retention_days: 2 } });
    expect(set.statusCode, set.body).toBe(200);
    expect(await systemLogs.prune()).toBeGreaterThanOrEqual(1);
    expect((await logs(`q=${t}`)).items).toEqual([]);

    for (let i = 0; i < 5; i += 1) server().modules.logger.warn(`count ${t} ${i}`);
    await systemLogs.flush();
    await repo.prune(old, 2);
    expect((await logs('limit=10')).items.map((i) => i.message)).toEqual([`count ${t} 4`, `count ${t} 3`]);
  });

  it('streams new entries to a live-tail subscriber', async () => {
    const got: unknown[] = [];
    const { systemLogs, logger } = server().modules;
    const off = await systemLogs.channel.subscribe(
      () => SYSTEM_ACTOR,
      'system.logs',
      null,
      (m) => got.push(m) > 0,
      () => undefined,
    );
    try {
      const t = tag();
      logger.error(`tail ${t}`);
      await systemLogs.flush();
      await expect.poll(() => JSON.stringify(got)).toContain(`tail ${t}`);
      expect(got[0]).toEqual({ type: 'subscribed', channel: 'system.logs' });
    } finally {
      await off();
    }
  });
});

describe('a system log whose table is gone', () => {
  it('drops the batch, says so once on the plain log, and never logs into itself', async () => {
    const db = await createTestDatabase('sqlite', { migrate: false });
    const capture = new LogCapture();
    const logger = createLogger({ level: 'info', destination: capture });
    const sink = createSystemLogs({ db: db.database.db, bus: createMemoryBus(), logger, node: 'n', retention: () => ({ retention_days: 1, max_rows: 1000 }) });
    try {
      sink.start(false);
      logger.error('first');
      await sink.flush();
      await sink.flush();
      expect(capture.lines.filter((l) => l.includes('system log write failed'))).toHaveLength(1);
      logger.error('second');
      await sink.flush();
      expect(capture.lines.filter((l) => l.includes('system log write failed'))).toHaveLength(2);
      await expect(sink.list(SYSTEM_ACTOR, {})).rejects.toThrow();
    } finally {
      await sink.stop();
      await db.drop();
    }
  });
});
