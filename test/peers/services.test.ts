import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { testRedisClient } from '../helpers/redis.js';
import { removeStaleThrowaways, startThrowawayPostgres, startThrowawayRedis } from './services.js';

/** The user id a process runs as (from /proc). */
const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

describe('throwaway services for a test run', () => {
  it('starts PostgreSQL on a free loopback port, never as root, tuned for speed, and removes it on stop', async () => {
    const server = await startThrowawayPostgres({ maxConnections: 42 });
    expect(server.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(server.url).not.toContain(':5432/');
    if (process.getuid?.() === 0) expect(uidOf(server.child.pid!)).not.toBe(0);
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    const settings = await client.query<{ name: string; setting: string }>(
      "select name, setting from pg_settings where name in ('fsync', 'max_connections', 'listen_addresses') order by name",
    );
    await client.end();
    expect(settings.rows).toEqual([
      { name: 'fsync', setting: 'off' },
      { name: 'listen_addresses', setting: '127.0.0.1' },
      { name: 'max_connections', setting: '42' },
    ]);
    await server.stop();
    expect(server.child.exitCode ?? server.child.signalCode).not.toBeNull();
    expect(fs.existsSync(server.dir)).toBe(false);
  });

  it('starts Redis without persistence or eviction, and removes it on stop', async () => {
    const server = await startThrowawayRedis();
    const client = testRedisClient(server.url);
    await client.connect();
    expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await client.config('GET', 'save')).toEqual(['save', '']);
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    client.disconnect();
    await server.stop();
    expect(server.child.exitCode ?? server.child.signalCode).not.toBeNull();
    expect(fs.existsSync(server.dir)).toBe(false);
  });

  it('removes the servers and directories of a run that died without cleaning up, and nothing of a live one', async () => {
    const [orphan, live] = await Promise.all([startThrowawayRedis(), startThrowawayRedis()]);
    try {
      // The owner of `orphan` is a process that has exited.
      const dead = spawnSync('true').pid!;
      fs.writeFileSync(path.join(orphan.dir, 'owner.pid'), String(dead));
      const exited = new Promise((resolve) => orphan.child.once('exit', resolve));
      expect(removeStaleThrowaways()).toContain(orphan.dir);
      await exited;
      expect(fs.existsSync(orphan.dir)).toBe(false);
      expect(fs.existsSync(live.dir)).toBe(true);
      expect(live.child.exitCode).toBeNull();
    } finally {
      await Promise.all([orphan.stop(), live.stop()]);
    }
  });
});
