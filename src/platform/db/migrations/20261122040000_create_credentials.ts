import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/**
 * Credential vault: credentials (typed, secret fields sealed per record), plain key/value
 * secrets, credential profiles with ordered fallback and remembered hits, and the access log
 * of every use of a plaintext. Sealed columns hold only AES-256-GCM ciphertext and the data
 * key wrapped under the master key named by `key_id`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('credentials')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('name_key', 'varchar(200)', (c) => c.notNull().unique())
    .addColumn('type', 'varchar(20)', (c) => c.notNull())
    .addColumn('description', 'varchar(2000)', (c) => c.notNull())
    .addColumn('tags', t.json, (c) => c.notNull())
    .addColumn('team_id', t.id)
    // JSON text, not jsonb: CamelCasePlugin would rename the snake_case keys inside a jsonb value.
    .addColumn('attributes', 'text', (c) => c.notNull())
    .addColumn('secret_fields', t.json, (c) => c.notNull())
    .addColumn('key_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('wrapped_key', 'varchar(200)', (c) => c.notNull())
    .addColumn('ciphertext', 'text', (c) => c.notNull())
    .addColumn('expires_at', t.timestamp)
    .addColumn('expiry_notified_at', t.timestamp)
    .addColumn('created_by', 'varchar(200)', (c) => c.notNull())
    .addColumn('updated_by', 'varchar(200)', (c) => c.notNull())
    .addColumn('last_used_at', t.timestamp)
    .addColumn('last_used_by', 'varchar(200)')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('credentials_team_idx').on('credentials').column('team_id').execute();
  await db.schema.createIndex('credentials_expires_idx').on('credentials').columns(['expires_at', 'id']).execute();
  await db.schema.createIndex('credentials_key_idx').on('credentials').columns(['key_id', 'id']).execute();

  await db.schema
    .createTable('secrets')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('key', 'varchar(200)', (c) => c.notNull().unique())
    .addColumn('description', 'varchar(2000)', (c) => c.notNull())
    .addColumn('key_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('wrapped_key', 'varchar(200)', (c) => c.notNull())
    .addColumn('ciphertext', 'text', (c) => c.notNull())
    .addColumn('created_by', 'varchar(200)', (c) => c.notNull())
    .addColumn('updated_by', 'varchar(200)', (c) => c.notNull())
    .addColumn('last_used_at', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('secrets_key_id_idx').on('secrets').columns(['key_id', 'id']).execute();

  await db.schema
    .createTable('credential_profiles')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('name_key', 'varchar(200)', (c) => c.notNull().unique())
    .addColumn('description', 'varchar(2000)', (c) => c.notNull())
    .addColumn('team_id', t.id)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('credential_profiles_team_idx').on('credential_profiles').column('team_id').execute();
  await db.schema
    .createTable('credential_profile_entries')
    .addColumn('profile_id', t.id, (c) => c.notNull().references('credential_profiles.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('credential_id', t.id, (c) => c.notNull().references('credentials.id').onDelete('restrict'))
    .addPrimaryKeyConstraint('credential_profile_entries_pk', ['profile_id', 'position'])
    .execute();
  await db.schema.createIndex('credential_profile_entries_credential_idx').on('credential_profile_entries').column('credential_id').execute();
  // Which entry last authenticated against a device (by reference), tried first next time.
  await db.schema
    .createTable('credential_profile_hits')
    .addColumn('profile_id', t.id, (c) => c.notNull().references('credential_profiles.id').onDelete('cascade'))
    .addColumn('device_key', 'varchar(300)', (c) => c.notNull())
    .addColumn('credential_id', t.id, (c) => c.notNull().references('credentials.id').onDelete('cascade'))
    .addColumn('succeeded_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('credential_profile_hits_pk', ['profile_id', 'device_key'])
    .execute();
  await db.schema.createIndex('credential_profile_hits_credential_idx').on('credential_profile_hits').column('credential_id').execute();

  // Append-only and without foreign keys: the log outlives the credentials it names.
  await db.schema
    .createTable('credential_access_log')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('time', t.timestamp, (c) => c.notNull())
    .addColumn('resource_type', 'varchar(20)', (c) => c.notNull())
    .addColumn('resource_id', t.id, (c) => c.notNull())
    .addColumn('action', 'varchar(20)', (c) => c.notNull())
    .addColumn('actor_kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('actor_id', 'varchar(100)', (c) => c.notNull())
    .addColumn('actor_name', 'varchar(200)', (c) => c.notNull())
    .addColumn('purpose', 'varchar(500)', (c) => c.notNull())
    .addColumn('job_run_id', 'varchar(100)')
    .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('credential_access_log_resource_idx').on('credential_access_log').columns(['resource_type', 'resource_id', 'id']).execute();
  await db.schema.createIndex('credential_access_log_run_idx').on('credential_access_log').column('job_run_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['credential_access_log', 'credential_profile_hits', 'credential_profile_entries', 'credential_profiles', 'secrets', 'credentials']) {
    await db.schema.dropTable(table).execute();
  }
}
