import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.ts'));

describe('migrations', () => {
  it('are named YYYYMMDDHHmmss_verb_object.ts with unique timestamps', () => {
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(f).toMatch(/^\d{14}_[a-z]+(_[a-z0-9]+)+\.ts$/);
    const stamps = files.map((f) => f.slice(0, 14));
    expect(new Set(stamps).size).toBe(stamps.length);
  });

  it.each(files)('%s is frozen in time: imports only kysely and ../columns.js, and has up and down', (file) => {
    const text = fs.readFileSync(path.join(DIR, file), 'utf8');
    const imports = [...text.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]);
    for (const spec of imports) expect(['kysely', '../columns.js']).toContain(spec);
    expect(text).toMatch(/export async function up\(/);
    expect(text).toMatch(/export async function down\(/);
  });
});
