/**
 * Custom-field values checked against their definitions: pure, table-tested. Types are
 * string, integer, boolean, date (YYYY-MM-DD), select (one of `choices`) and json.
 */
import { linearTest } from '../../platform/linear-regex.js';

export const CUSTOM_FIELD_TYPES = ['string', 'integer', 'boolean', 'date', 'select', 'json'] as const;
export type CustomFieldType = (typeof CUSTOM_FIELD_TYPES)[number];

export interface CustomFieldValidation {
  min?: number;
  max?: number;
  min_length?: number;
  max_length?: number;
  regex?: string;
  choices?: string[];
}

export interface CustomFieldDef {
  name: string;
  type: CustomFieldType;
  required: boolean;
  default: unknown;
  validation: CustomFieldValidation;
}

export interface CustomFieldError {
  /** the field's name, '' for the object as a whole */
  name: string;
  message: string;
}

const STRING_MAX = 4096;
const JSON_MAX = 65_536;

/** Checks one value; returns an error message or null. */
export function checkValue(def: CustomFieldDef, value: unknown): string | null {
  const v = def.validation;
  switch (def.type) {
    case 'string': {
      if (typeof value !== 'string') return 'must be a string';
      if (value.length > (v.max_length ?? STRING_MAX)) return `must be at most ${v.max_length ?? STRING_MAX} characters`;
      if (v.min_length !== undefined && value.length < v.min_length) return `must be at least ${v.min_length} characters`;
      if (v.regex !== undefined && !linearTest(v.regex, value)) return `must match ${v.regex}`;
      return null;
    }
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return 'must be an integer';
      if (v.min !== undefined && value < v.min) return `must be at least ${v.min}`;
      if (v.max !== undefined && value > v.max) return `must be at most ${v.max}`;
      return null;
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'date': {
      if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return 'must be a date (YYYY-MM-DD)';
      const d = new Date(`${value}T00:00:00Z`);
      return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(value) ? null : 'must be a real calendar date';
    }
    case 'select':
      return typeof value === 'string' && (v.choices ?? []).includes(value) ? null : `must be one of: ${(v.choices ?? []).join(', ')}`;
    case 'json':
      return JSON.stringify(value).length <= JSON_MAX ? null : `must be at most ${JSON_MAX} bytes of JSON`;
  }
}

/**
 * Validates `input` for an object. On create (`existing` null) missing fields take their
 * default and required ones without a default are errors; on update the input is merged over
 * the stored values and `null` removes a value. Values of fields no longer defined are dropped.
 */
export function validateCustomFields(
  defs: readonly CustomFieldDef[],
  input: Record<string, unknown>,
  existing: Record<string, unknown> | null,
): { values: Record<string, unknown>; errors: CustomFieldError[] } {
  const errors: CustomFieldError[] = [];
  const byName = new Map(defs.map((d) => [d.name, d]));
  for (const name of Object.keys(input)) {
    if (!byName.has(name)) errors.push({ name, message: 'is not a custom field defined for this object type' });
  }
  const values: Record<string, unknown> = {};
  for (const def of defs) {
    let value: unknown;
    if (Object.hasOwn(input, def.name)) value = input[def.name];
    else if (existing && Object.hasOwn(existing, def.name)) value = existing[def.name];
    else if (!existing) value = def.default ?? null;
    if (value === null || value === undefined) {
      if (def.required) errors.push({ name: def.name, message: 'is required' });
      continue;
    }
    const problem = checkValue(def, value);
    if (problem) errors.push({ name: def.name, message: problem });
    else values[def.name] = value;
  }
  return { values, errors };
}

/** Parses a CSV cell into the field's type (imports); returns the raw text when it cannot. */
export function fromText(type: CustomFieldType, raw: string): unknown {
  if (raw === '') return null;
  switch (type) {
    case 'integer':
      return /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'json':
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return raw;
      }
    default:
      return raw;
  }
}

/** A CSV cell for a value (exports). */
export function toText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
