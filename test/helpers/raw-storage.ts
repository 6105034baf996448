import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { TestDatabase } from './db.js';

/**
 * Everything the database holds, as text: the SQLite file and its WAL as bytes, or every
 * PostgreSQL table's rows cast to text. Tests grep it for plaintext secrets.
 */
export async function rawStorage(db: TestDatabase): Promise<string> {
  if (db.dialect === 'sqlite') {
    const file = path.join(db.dataDir, 'opsdeck.db');
    return [file, `${file}-wal`]
      .filter((f) => fs.existsSync(f))
      .map((f) => fs.readFileSync(f).toString('latin1'))
      .join('\n');
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
    );
    const parts: string[] = [];
    for (const { table_name } of tables.rows) {
      const rows = await client.query<{ row: string }>(`select t::text as row from "${table_name.replace(/"/g, '')}" t`);
      parts.push(`${table_name}:`, ...rows.rows.map((r) => r.row));
    }
    return parts.join('\n');
  } finally {
    await client.end();
  }
}

/** The forms of a secret that must not appear in storage or logs. */
export function forms(secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)];
}
