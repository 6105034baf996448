import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { runOpsdeck } from './helpers/process.js';
import { createPgDatabase } from './helpers/db.js';
import { generateMasterKeyEntry, KEY_FILE_NAME } from '../src/platform/crypto/key-ring.js';

const tmpData = () => fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-cli-'));

describe('opsdeck command line', () => {
  it('prints help', async () => {
    const p = runOpsdeck(['--help'], {});
    expect(await p.exited).toBe(0);
    expect(p.stdout()).toMatch(/Usage: opsdeck <command>/);
    expect(p.stdout()).toContain('migrate [--dry-run]');
  });

  it('prints the usage of every command with <command> --help, exit 0, reading no configuration', async () => {
    const top = runOpsdeck(['--help'], {});
    expect(await top.exited).toBe(0);
    const section = top.stdout().split('Commands:\n')[1]!.split('\n  --help')[0]!;
    const commands = [...section.matchAll(/^ {2}([a-z]+)/gm)].map((m) => m[1]!);
    expect(commands).toEqual(['serve', 'worker', 'migrate', 'config', 'user', 'keys', 'configs', 'parse']);
    // A bad setting would stop any command that read the configuration.
    const runs = commands.map((c) => ({ c, p: runOpsdeck([c, '--help'], { OPSDECK_PORT: 'eighty' }) }));
    for (const { c, p } of runs) {
      expect(await p.exited, c).toBe(0);
      expect(p.stdout(), c).toMatch(new RegExp(`Usage:\\s+opsdeck ${c}\\b`));
      expect(p.stdout(), c).not.toContain('Commands:');
      expect(p.stderr(), c).toBe('');
    }
    const unknown = runOpsdeck(['bogus', '--help'], {});
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr()).toContain("unknown command 'bogus'");
  }, 180_000);

  it('stops on bad configuration with one clear line naming the variable', async () => {
    const p = runOpsdeck(['serve'], { OPSDECK_PORT: 'eighty', OPSDECK_DATA_DIR: tmpData() });
    expect(await p.exited).toBe(2);
    const lines = p.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe('opsdeck: Invalid configuration: OPSDECK_PORT="eighty" is invalid: expected an integer from 0 to 65535');
  });

  it('masks secrets in a configuration error', async () => {
    const p = runOpsdeck(['serve'], { OPSDECK_DATABASE_URL: 'mysql://root:topsecret@db/x' });
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toContain('OPSDECK_DATABASE_URL');
    expect(p.stderr()).not.toContain('topsecret');
  });

  it('prints the effective configuration with secrets masked', async () => {
    const p = runOpsdeck(['config'], {
      OPSDECK_JWT_SECRET: 'Xq3v9LmR2tWz8KpN4yHb7JcF1dGs6AeU0oIiYkTn',
      OPSDECK_DATABASE_URL: 'postgres://ops:pa55word@db/ops',
      OPSDECK_DATA_DIR: '/srv/x',
    });
    expect(await p.exited).toBe(0);
    const cfg = JSON.parse(p.stdout());
    expect(cfg.OPSDECK_JWT_SECRET).toBe('********');
    expect(cfg.OPSDECK_DATABASE_URL).toBe('postgres://ops:********@db/ops');
    expect(cfg.OPSDECK_DATA_DIR).toBe('/srv/x');
    expect(p.stdout()).not.toContain('pa55word');
  });

  it('lists pending migrations with --dry-run, applies them, then has none', async () => {
    const dataDir = tmpData();
    const dry = runOpsdeck(['migrate', '--dry-run'], { OPSDECK_DATA_DIR: dataDir });
    expect(await dry.exited).toBe(0);
    expect(dry.stdout()).toMatch(/Pending migrations:\n {2}20261122000000_create_settings/);
    const run = runOpsdeck(['migrate'], { OPSDECK_DATA_DIR: dataDir });
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toMatch(/Applied:\n {2}20261122000000_create_settings/);
    const again = runOpsdeck(['migrate', '--dry-run'], { OPSDECK_DATA_DIR: dataDir });
    expect(await again.exited).toBe(0);
    expect(again.stdout()).toBe('No pending migrations.\n');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});

describe('files of the data directory', () => {
  it('are private: the directory 0700, the SQLite files 0600', async () => {
    const dataDir = path.join(tmpData(), 'data');
    const run = runOpsdeck(['migrate'], { OPSDECK_DATA_DIR: dataDir });
    expect(await run.exited).toBe(0);
    expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700);
    const files = fs.readdirSync(dataDir).filter((f) => f.startsWith('opsdeck.db'));
    expect(files).toContain('opsdeck.db');
    for (const f of files) expect([f, fs.statSync(path.join(dataDir, f)).mode & 0o777]).toEqual([f, 0o600]);
    fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
  });

  it('refuse to start on a master key file other users can read', async () => {
    const dataDir = tmpData();
    const file = path.join(dataDir, KEY_FILE_NAME);
    fs.writeFileSync(file, `${generateMasterKeyEntry()}\n`, { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    const p = runOpsdeck(['serve'], { OPSDECK_DATA_DIR: dataDir, OPSDECK_PORT: '0' });
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toContain(`chmod 600 ${file}`);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});

describe('three nodes starting at once on one empty PostgreSQL database', () => {
  it('migrate it exactly once, with no error in any of them', async () => {
    const pgdb = await createPgDatabase();
    const nodes = [0, 1, 2].map(() =>
      runOpsdeck(['serve'], { OPSDECK_DATABASE_URL: pgdb.url, OPSDECK_PORT: '0', OPSDECK_DATA_DIR: tmpData(), OPSDECK_LOG_LEVEL: 'info' }),
    );
    try {
      await Promise.all(nodes.map((n) => n.waitFor(/"msg":"opsdeck listening"/, 60_000)));
      const migratedBy = nodes.filter((n) => n.stdout().includes('"msg":"database migrated"'));
      expect(migratedBy).toHaveLength(1);
      // The first-start banner (the generated admin password, on the terminal) comes from the one
      // node whose insert won; nothing else reaches standard error.
      const BANNER = /\n=+\n[\s\S]*?shown ONCE[\s\S]*?\n=+\n\n/;
      expect(nodes.filter((n) => BANNER.test(n.stderr()))).toHaveLength(1);
      for (const n of nodes) {
        expect(n.stderr().replace(BANNER, '')).toBe('');
        expect(n.stdout()).not.toMatch(/"level":(50|60)/);
      }
      const client = new pg.Client({ connectionString: pgdb.url });
      await client.connect();
      const rows = await client.query<{ name: string; n: string }>('select name, count(*) as n from opsdeck_migrations group by name');
      await client.end();
      expect(rows.rows.length).toBeGreaterThan(0);
      expect(rows.rows.every((r) => Number(r.n) === 1)).toBe(true);
    } finally {
      for (const n of nodes) n.child.kill('SIGTERM');
      const codes = await Promise.all(nodes.map((n) => n.exited));
      expect(codes).toEqual([0, 0, 0]);
      await pgdb.drop();
    }
  }, 90_000);
});
