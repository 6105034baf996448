import type { TObject, TSchema } from 'typebox';
import type { FieldError } from '../../platform/errors.js';
import { fromText, toText, type CustomFieldDef } from './custom-field.fns.js';

/**
 * CSV ⇄ API object conversion for imports and exports, driven by the create schema: `Ref`
 * fields travel as names, uuid fields as ids, arrays as comma-separated lists and custom
 * fields as `cf_<name>` columns. Pure and tested.
 */

type Kind = 'ref' | 'uuid' | 'array' | 'integer' | 'boolean' | 'string' | 'object';

function kindOf(schema: TSchema): { kind: Kind; nullable: boolean } {
  const s = schema as { anyOf?: TSchema[]; type?: string; format?: string; description?: string };
  if (s.anyOf) {
    const inner = s.anyOf.find((x) => (x as { type?: string }).type !== 'null');
    return { kind: inner ? kindOf(inner).kind : 'string', nullable: s.anyOf.length > 1 };
  }
  if (s.type === 'array') return { kind: 'array', nullable: false };
  if (s.type === 'integer' || s.type === 'number') return { kind: 'integer', nullable: false };
  if (s.type === 'boolean') return { kind: 'boolean', nullable: false };
  if (s.type === 'object') return { kind: 'object', nullable: false };
  if (s.format === 'uuid') return { kind: 'uuid', nullable: false };
  if (s.description === 'id or unique name') return { kind: 'ref', nullable: false };
  return { kind: 'string', nullable: false };
}

/** The CSV columns of an object type: `id`, the create body's fields, then `cf_<name>`. */
export function csvColumns(create: TObject, customFields: readonly CustomFieldDef[]): string[] {
  return ['id', ...Object.keys(create.properties).filter((k) => k !== 'custom_fields'), ...customFields.map((d) => `cf_${d.name}`)];
}

/** One CSV record → a body for the create/update schema; unknown columns are reported. */
export function fromCsvRecord(
  record: Record<string, string>,
  create: TObject,
  customFields: readonly CustomFieldDef[],
  path: string,
): { body: Record<string, unknown>; errors: FieldError[] } {
  const body: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  const cfs = new Map(customFields.map((d) => [d.name, d]));
  for (const [column, raw] of Object.entries(record)) {
    if (column === 'id') {
      if (raw !== '') body.id = raw;
      continue;
    }
    if (column.startsWith('cf_')) {
      const def = cfs.get(column.slice(3));
      if (!def) errors.push({ path: `${path}.${column}`, message: 'is not a custom field defined for this object type' });
      else ((body.custom_fields ??= {}) as Record<string, unknown>)[def.name] = fromText(def.type, raw);
      continue;
    }
    const schema = create.properties[column];
    if (!schema) {
      errors.push({ path: `${path}.${column}`, message: 'is not a known column' });
      continue;
    }
    const { kind, nullable } = kindOf(schema);
    if (raw === '') {
      if (nullable) body[column] = null;
      continue;
    }
    if (kind === 'array') {
      body[column] = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    } else if (kind === 'integer') body[column] = /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    else if (kind === 'boolean') body[column] = raw === 'true' ? true : raw === 'false' ? false : raw;
    else if (kind === 'object') {
      try {
        body[column] = JSON.parse(raw) as unknown;
      } catch {
        errors.push({ path: `${path}.${column}`, message: 'is not valid JSON' });
      }
    } else body[column] = raw;
  }
  return { body, errors };
}

/** An API object → a CSV record with the given columns. */
export function toCsvRecord(item: Record<string, unknown>, columns: readonly string[], create: TObject): string[] {
  const cf = (item.custom_fields ?? {}) as Record<string, unknown>;
  return columns.map((column) => {
    if (column.startsWith('cf_')) return toText(cf[column.slice(3)]);
    const value = column === 'id' ? item.id : item[column];
    if (value === null || value === undefined) return '';
    const schema = create.properties[column];
    const kind = schema ? kindOf(schema).kind : 'string';
    if (kind === 'array' && Array.isArray(value)) {
      return value.map((v) => (typeof v === 'object' && v ? String((v as { name?: unknown }).name) : String(v))).join(',');
    }
    if (typeof value === 'object') {
      const o = value as { id?: string; name?: string; model?: string };
      return kind === 'uuid' ? (o.id ?? '') : (o.name ?? o.model ?? o.id ?? '');
    }
    return toText(value);
  });
}
