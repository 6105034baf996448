/**
 * Response schemas that repeat (an object served by its GET, inside its list page, its bulk
 * answer, another object's `include`) are written once under `#/components/schemas` and
 * referenced. The document only: routes still validate and serialise with their own schemas.
 */
type Json = Record<string, unknown>;
export type Operation = { operationId?: string; responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> };

/** Below this many characters of JSON a schema stays inline: a reference would save little. */
const MIN_SHARED_SIZE = 200;
const REF = '#/components/schemas/';

const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
/** An object schema with properties: what gets a name (not `$ref`s, scalars or `anyOf` wrappers). */
const isNamed = (x: unknown): x is Json => isObject(x) && x.type === 'object' && isObject(x.properties);
const pascal = (s: string) => s.replace(/(^|[^A-Za-z0-9]+)([A-Za-z0-9])/g, (_m, _sep, c: string) => c.toUpperCase());

/** Calls `visit` for every named schema under `node`, with the property path leading to it. */
function walk(node: unknown, path: string[], visit: (schema: Json, path: string[]) => void): void {
  if (Array.isArray(node)) return node.forEach((x) => walk(x, path, visit));
  if (!isObject(node)) return;
  if (isNamed(node)) visit(node, path);
  for (const [k, v] of Object.entries(node)) {
    if (k === 'properties' && isObject(v)) for (const [name, prop] of Object.entries(v)) walk(prop, [...path, name], visit);
    else if (k === 'items' && node.type === 'array') walk(v, [...path, 'item'], visit);
    else walk(v, k === 'anyOf' || k === 'oneOf' || k === 'allOf' ? path : [...path, k], visit);
  }
}

/** `node` rebuilt (never mutated: the route schemas may share its objects) with `replace` applied top-down. */
function rebuild(node: unknown, replace: (x: Json) => Json | undefined): unknown {
  if (Array.isArray(node)) return node.map((x) => rebuild(x, replace));
  if (!isObject(node)) return node;
  const replaced = replace(node);
  if (replaced) return replaced;
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, rebuild(v, replace)]));
}

/** The component name of a shared schema: `Device` for what `getDevice` answers, else where it first appears. */
function nameOf(places: { operationId: string; path: string[] }[]): string {
  const whole = places.find((p) => p.path.length === 0 && /^get[A-Z]/.test(p.operationId));
  if (whole) return whole.operationId.slice(3);
  const first = places[0] ?? { operationId: 'operation', path: [] };
  const tail = first.path.map(pascal);
  return pascal(first.operationId) + (tail.length > 0 ? tail.join('') : 'Response');
}

/** Moves every response schema used twice or more into `schemas` and refers to it there. */
export function shareResponseSchemas(paths: Record<string, Record<string, Operation>>, schemas: Record<string, Json>): void {
  const bodies: { content: { schema?: unknown }; operationId: string }[] = [];
  for (const item of Object.values(paths)) {
    for (const op of Object.values(item)) {
      for (const response of Object.values(op.responses ?? {})) {
        for (const content of Object.values(response.content ?? {})) if (content.schema) bodies.push({ content, operationId: op.operationId ?? 'operation' });
      }
    }
  }
  const seen = new Map<string, { places: { operationId: string; path: string[] }[] }>();
  for (const body of bodies) {
    walk(body.content.schema, [], (schema, path) => {
      const key = JSON.stringify(schema);
      if (key.length < MIN_SHARED_SIZE) return;
      const entry = seen.get(key) ?? { places: [] };
      entry.places.push({ operationId: body.operationId, path });
      seen.set(key, entry);
    });
  }
  const names = new Map<string, string>();
  const taken = new Set(Object.keys(schemas));
  for (const [key, { places }] of seen) {
    if (places.length < 2) continue;
    const base = nameOf(places);
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}${i}`;
    taken.add(name);
    names.set(key, name);
  }
  // Refer to every shared schema, components included (a page refers to its item).
  const toRef = (root: string | null) => (x: Json) => {
    if (!isNamed(x)) return undefined;
    const name = names.get(JSON.stringify(x));
    return name && name !== root ? { $ref: `${REF}${name}` } : undefined;
  };
  const shared = new Map<string, unknown>();
  for (const [key, name] of names) shared.set(name, rebuild(JSON.parse(key), toRef(name)));
  const rewritten = bodies.map((b) => rebuild(b.content.schema, toRef(null)));
  // A schema shared only because its one container repeats is referred to once: back inline.
  const uses = new Map<string, number>();
  walkRefs([...rewritten, ...shared.values()], (name) => uses.set(name, (uses.get(name) ?? 0) + 1));
  const inline = (x: Json): Json | undefined => {
    const name = typeof x.$ref === 'string' && x.$ref.startsWith(REF) ? x.$ref.slice(REF.length) : null;
    if (name === null || uses.get(name) !== 1 || !shared.has(name)) return undefined;
    return rebuild(shared.get(name), inline) as Json;
  };
  bodies.forEach((b, i) => (b.content.schema = rebuild(rewritten[i], inline)));
  for (const [name, schema] of shared) if (uses.get(name) !== 1) schemas[name] = rebuild(schema, inline) as Json;
}

function walkRefs(node: unknown, found: (name: string) => void): void {
  if (Array.isArray(node)) return node.forEach((x) => walkRefs(x, found));
  if (!isObject(node)) return;
  if (typeof node.$ref === 'string' && node.$ref.startsWith(REF)) found(node.$ref.slice(REF.length));
  for (const v of Object.values(node)) walkRefs(v, found);
}
