/**
 * Which template variables hold secrets, so `config_push` can mask their values wherever the
 * rendered configuration, a device's answer or a diff is logged or stored. A value is secret when
 * the variables schema marks its property (`writeOnly: true`, `format: "password"` or
 * `"x-secret": true`, at any depth) or when its name, or the name of an object or list holding it,
 * says so (SECRET_NAME: ending in password, passphrase, secret, token, community, psk, or `key`
 * after `_`/`-`, plurals too). Matching is case-insensitive.
 */

export const SECRET_NAME = /(?:pass(?:word|wd|phrase)s?|secrets?|tokens?|communit(?:y|ies)|psks?|(?:^|[_-])keys?)$/i;

type Schema = Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function marked(schema: unknown): boolean {
  return isObject(schema) && (schema.writeOnly === true || schema.format === 'password' || schema['x-secret'] === true);
}

/** The sub-schema for a property or an array item, if the schema describes one. */
function childSchema(schema: unknown, key: string | null): unknown {
  if (!isObject(schema)) return undefined;
  if (key === null) return schema.items;
  const props = schema.properties;
  return isObject(props) ? props[key] : undefined;
}

/**
 * Walks `vars` and reports every non-empty string or number under a secret mark, with the path
 * (`a.b.0`) of the variable that made it secret (the outermost secret name or schema mark).
 */
function walkSecrets(vars: Record<string, unknown>, schema: Schema | null, visit: (value: string, path: string) => boolean): void {
  let going = true;
  const walk = (value: unknown, sub: unknown, path: string, secretAt: string | null, depth: number): void => {
    if (!going || depth > 32) return;
    if (typeof value === 'string' || typeof value === 'number') {
      if (secretAt !== null && String(value) !== '') going = visit(String(value), secretAt);
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, childSchema(sub, null), `${path}.${i}`, secretAt, depth + 1));
      return;
    }
    if (isObject(value)) {
      for (const [k, v] of Object.entries(value)) {
        const s = childSchema(sub, k);
        const here = path ? `${path}.${k}` : k;
        walk(v, s, here, secretAt ?? (SECRET_NAME.test(k) || marked(s) ? here : null), depth + 1);
      }
    }
  };
  walk(vars, schema, '', null, 0);
}

/** Secret values in `vars` (strings and numbers, as they would be rendered). */
export function secretValues(vars: Record<string, unknown>, schema: Schema | null, limit = 1000): string[] {
  const out = new Set<string>();
  walkSecrets(vars, schema, (value) => {
    out.add(value);
    return out.size < limit;
  });
  return [...out];
}

/**
 * Paths of the variables in `vars` that hold a secret (by name, or by the schema's mark when a
 * schema is given): `config_push` refuses them in its stored params (`secret_variables` brings
 * secrets from the credential vault instead).
 */
export function secretVariablePaths(vars: Record<string, unknown>, schema: Schema | null, limit = 20): string[] {
  const out = new Set<string>();
  walkSecrets(vars, schema, (_, path) => {
    out.add(path);
    return out.size < limit;
  });
  return [...out];
}

/** A variable name or dotted path (`bgp.auth_key`) that `secret_variables` may set. */
export const VARIABLE_PATH = '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*){0,7}$';
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Why `path` cannot name a variable, or null. */
export function variablePathError(path: string): string | null {
  if (!new RegExp(VARIABLE_PATH).test(path)) return 'a variable name or a dotted path of names (letters, digits, _)';
  return path.split('.').some((k) => UNSAFE_KEYS.has(k)) ? 'this name cannot be set' : null;
}

/**
 * Sets `value` at a dotted path in `vars` without changing any object it reads (objects on the
 * way are copied; a missing one is created). Throws when something on the way is not an object.
 */
export function setVariable(vars: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = vars;
  keys.forEach((key, i) => {
    if (i === keys.length - 1) {
      Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
      return;
    }
    const current = Object.hasOwn(node, key) ? node[key] : undefined;
    if (current !== undefined && !isObject(current)) throw new Error(`${keys.slice(0, i + 1).join('.')} is not an object`);
    const copy: Record<string, unknown> = { ...(current ?? {}) };
    Object.defineProperty(node, key, { value: copy, enumerable: true, writable: true, configurable: true });
    node = copy;
  });
}

/**
 * A copy of `vars` with every secret value (by name or by `schema`'s marks, as `secretValues`
 * finds them) replaced by `mask`, and how many were replaced. Used to scrub params stored before
 * a schema marked them secret.
 */
export function maskSecretVariables(vars: Record<string, unknown>, schema: Schema | null, mask: string): { vars: Record<string, unknown>; masked: number } {
  let masked = 0;
  const copy = (value: unknown, sub: unknown, secret: boolean, depth: number): unknown => {
    if (depth > 32) return value;
    if (typeof value === 'string' || typeof value === 'number') {
      if (!secret || String(value) === '' || value === mask) return value;
      masked += 1;
      return mask;
    }
    if (Array.isArray(value)) return value.map((item) => copy(item, childSchema(sub, null), secret, depth + 1));
    if (!isObject(value)) return value;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, copy(v, childSchema(sub, k), secret || SECRET_NAME.test(k) || marked(childSchema(sub, k)), depth + 1)]),
    );
  };
  return { vars: copy(vars, schema, false, 0) as Record<string, unknown>, masked };
}
