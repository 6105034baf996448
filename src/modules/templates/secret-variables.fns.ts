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

/** Secret values in `vars` (strings and numbers, as they would be rendered), deepest first found. */
export function secretValues(vars: Record<string, unknown>, schema: Schema | null, limit = 1000): string[] {
  const out = new Set<string>();
  const walk = (value: unknown, sub: unknown, secret: boolean, depth: number): void => {
    if (out.size >= limit || depth > 32) return;
    if (typeof value === 'string' || typeof value === 'number') {
      if (secret && String(value) !== '') out.add(String(value));
      return;
    }
    if (Array.isArray(value)) {
      for (const item of value) walk(item, childSchema(sub, null), secret, depth + 1);
      return;
    }
    if (isObject(value)) {
      for (const [k, v] of Object.entries(value)) {
        const s = childSchema(sub, k);
        walk(v, s, secret || SECRET_NAME.test(k) || marked(s), depth + 1);
      }
    }
  };
  walk(vars, schema, false, 0);
  return [...out];
}
