import type { IncomingMessage, ServerResponse } from 'node:http';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

type HelmetOptions = Record<string, unknown>;
type Helmet = (options: HelmetOptions) => (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * The headers helmet sets with these options, computed once. @fastify/helmet built helmet's
 * middleware (parsing the CSP directives) on every request; the headers never vary here (no
 * nonces, no per-route options), so they are applied as a constant map.
 */
export function securityHeaders(helmet: Helmet, options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
    getHeader: (name: string) => headers[name.toLowerCase()],
  };
  helmet(options)({ headers: {} } as IncomingMessage, res as unknown as ServerResponse, (err) => {
    if (err) throw err;
  });
  return headers;
}

type Schema = Record<string, unknown>;
const COMBINATORS = ['anyOf', 'oneOf', 'allOf', '$ref', 'const', 'nullable', 'not', 'if'];
const isNull = (s: unknown): boolean => typeof s === 'object' && s !== null && (s as Schema).type === 'null' && !('const' in s);
const plain = (s: unknown): s is Schema =>
  typeof s === 'object' && s !== null && !Array.isArray(s) && typeof (s as Schema).type === 'string' && COMBINATORS.every((k) => !(k in s));

/**
 * A response schema as the serializer gets it: `anyOf: [T, null]` (TypeBox's `Nullable`) becomes
 * `T` with `nullable: true`. fast-json-stringify picks a union's branch by running Ajv on the
 * value for each branch, so a nullable object or string was validated in full (maxLength counted
 * character by character) before being written: 17% of a 50-device list's CPU. `nullable` is a
 * null check. The OpenAPI document keeps the route's own schema; responses stay whitelisted by
 * the same properties.
 */
export function forSerialization<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map(forSerialization) as T;
  if (typeof schema !== 'object' || schema === null) return schema;
  const s = schema as Schema;
  const branches = s.anyOf;
  if (Array.isArray(branches) && branches.length === 2) {
    const other = isNull(branches[0]) ? branches[1] : isNull(branches[1]) ? branches[0] : undefined;
    if (plain(other)) {
      const { anyOf: _drop, ...rest } = s;
      return { ...forSerialization(rest), ...forSerialization(other), nullable: true } as T;
    }
  }
  const out: Schema = {};
  for (const key of Object.keys(s)) out[key] = forSerialization(s[key]);
  return out as T;
}

type SerializerFactory = ReturnType<typeof SerializerSelector>;

/** Fastify's default serializer compiler (fast-json-stringify) over `forSerialization` schemas. */
export const buildSerializer: SerializerFactory = (externalSchemas, options) => {
  const rewritten = Object.fromEntries(Object.entries((externalSchemas ?? {}) as Schema).map(([id, s]) => [id, forSerialization(s)]));
  const inner = SerializerSelector()(rewritten, options);
  return (route) => inner({ ...route, schema: forSerialization(route.schema) });
};
