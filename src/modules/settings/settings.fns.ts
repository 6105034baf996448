import { isDeepStrictEqual } from 'node:util';
import { Value } from 'typebox/value';
import { SETTINGS, type Config } from '../../config.js';
import type { FieldError } from '../../platform/errors.js';
import type { KeyDef, SectionDef } from './settings.sections.js';

export type Source = 'database' | 'environment' | 'default';
export interface Explained {
  value: unknown;
  source: Source;
  /** The `OPSDECK_*` variable the key falls back to, if any. */
  env: string | null;
}

/** The built-in default of a key: config.ts's default when a setting backs it, else the section's. */
export function keyDefault(def: KeyDef): unknown {
  if (!def.config) return def.default;
  const s = SETTINGS[def.config] as { default: string | undefined; parse: (raw: string) => { value: unknown } | { expected: string } };
  if (s.default === undefined) return null;
  const parsed = s.parse(s.default);
  return 'value' in parsed ? parsed.value : null;
}

/**
 * A key's effective value and where it came from: the database row, else the environment,
 * else the default. NOTE: config.ts keeps no record of which variables were set, so a
 * variable set to exactly its default counts as `default` (the value is the same).
 */
export function resolveKey(def: KeyDef, stored: Record<string, unknown>, name: string, config: Partial<Config>): Explained {
  const env = def.config ? SETTINGS[def.config].env : null;
  if (Object.hasOwn(stored, name)) return { value: stored[name], source: 'database', env };
  const fallback = keyDefault(def);
  if (def.config) {
    const configured = (config as Record<string, unknown>)[def.config];
    if (configured !== undefined && !isDeepStrictEqual(configured, fallback)) return { value: configured, source: 'environment', env };
  }
  return { value: fallback, source: 'default', env };
}

export function resolveSection(section: SectionDef, stored: Record<string, unknown>, config: Partial<Config>): Record<string, Explained> {
  const out: Record<string, Explained> = {};
  for (const [name, def] of Object.entries(section.keys)) out[name] = resolveKey(def, stored, name, config);
  return out;
}

/** Every problem of a change, each named `body.<key>`: unknown keys, schema failures and the keys' own rules. */
export function validateChange(section: SectionDef, change: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  for (const [name, value] of Object.entries(change)) {
    const def = section.keys[name];
    const path = `body.${name}`;
    if (!def) {
      errors.push({ path, message: 'is not a key of this section' });
    } else if (value !== null) {
      const first = Value.Errors(def.schema, value)[0];
      if (first) errors.push({ path, message: first.message });
      else {
        const problem = def.check?.(value as never);
        if (problem) errors.push({ path, message: problem });
      }
    }
  }
  return errors;
}

/** `key: before → after` lines for the audit log; secrets show only that they changed. */
export function describeChange(section: SectionDef, before: Record<string, Explained>, after: Record<string, Explained>): string[] {
  const show = (v: unknown) => JSON.stringify(v)?.slice(0, 80) ?? 'null';
  const lines: string[] = [];
  for (const name of Object.keys(section.keys)) {
    const b = before[name]!;
    const a = after[name]!;
    if (isDeepStrictEqual(b.value, a.value) && b.source === a.source) continue;
    lines.push(
      section.keys[name]!.secret
        ? `${name}: (secret ${a.source === 'database' ? 'set' : 'cleared'})`
        : `${name}: ${show(b.value)} → ${show(a.value)} (${a.source})`,
    );
  }
  return lines;
}
