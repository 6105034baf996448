import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequestError, type FieldError } from '../errors.js';

/** Deeper JSON than any route's schema describes is refused before it is parsed. */
export const MAX_JSON_DEPTH = 64;

/**
 * The nesting depth of JSON text, counted without parsing it (brackets inside strings do not
 * count), stopping as soon as `max` is passed. JSON.parse and every walk of the value recurse,
 * so 10,000 levels overflowed the stack and answered 500.
 */
export function exceedsDepth(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) {
        i++;
      } // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Why a string cannot be stored (PostgreSQL refuses NUL; a lone surrogate is not Unicode text), or null. */
export function unstorable(s: string): string | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return 'must not contain the NUL character (U+0000)';
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return 'must not contain an unpaired UTF-16 surrogate';
    } else if (c >= 0xdc00 && c <= 0xdfff) return 'must not contain an unpaired UTF-16 surrogate';
  }
  return null;
}

/**
 * A decimal literal, as a query value or JSON number may spell one. NOTE: Ajv's type coercion
 * turns "1e400" into Infinity, which then passes `type: integer` and skips `maximum`
 * (Infinity reached SQLite as a LIMIT: 500). Literals past the double range are refused here.
 */
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const FINITE = 'must be a finite number';

/** Every string (and key) in a parsed value that cannot be stored, with its path. */
export function unstorableStrings(value: unknown, path: string, out: FieldError[] = [], limit = 20): FieldError[] {
  if (out.length >= limit) return out;
  if (typeof value === 'string') {
    const why = unstorable(value) ?? (NUMERIC.test(value) && !Number.isFinite(Number(value)) ? FINITE : null);
    if (why) out.push({ path, message: why });
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) out.push({ path, message: FINITE });
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length && out.length < limit; i++) unstorableStrings(value[i], `${path}.${i}`, out, limit);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      const why = unstorable(key);
      if (why) out.push({ path: `${path}.${printable(key)}`, message: `the key ${why.replace('must not contain', 'contains')}` });
      unstorableStrings(v, `${path}.${printable(key)}`, out, limit);
    }
  }
  return out;
}

/** A field name safe to echo in a problem body (no NUL or lone surrogate of its own). */
function printable(key: string): string {
  return unstorable(key)
    ? JSON.stringify(key)
        .slice(1, -1)
        .replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)
    : key;
}

/**
 * Refuses input no handler can store before any of it runs: JSON nested deeper than
 * MAX_JSON_DEPTH (checked before parsing), and NUL characters or unpaired surrogates in any
 * string of the body, query or route parameters, and numbers past the double range
 * (400 naming each field). Fastify's own JSON
 * parser (prototype-poisoning checks) still parses what passes.
 */
export function registerInputGuard(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (exceedsDepth(text, MAX_JSON_DEPTH)) {
      done(
        new BadRequestError('VALIDATION_FAILED', 'The request is invalid', [{ path: 'body', message: `must not nest deeper than ${MAX_JSON_DEPTH} levels` }]),
        undefined,
      );
      return;
    }
    void parseJson(request, text, done);
  });
  app.addHook('preValidation', (request: FastifyRequest, _reply, done) => {
    const errors: FieldError[] = [];
    unstorableStrings(request.params, 'params', errors);
    unstorableStrings(request.query, 'query', errors);
    unstorableStrings(request.body, 'body', errors);
    if (errors.length > 0) done(new BadRequestError('VALIDATION_FAILED', 'The request is invalid', errors) as unknown as FastifyError);
    else done();
  });
}
