/**
 * Contract fakes of Nautobot 3.x and NetBox 4.x REST APIs on 127.0.0.1: real response shapes
 * (the `{count,next,previous,results}` envelope, nested brief objects, DRF error bodies),
 * and every request checked against the trimmed published schema in `test/contracts/`
 * (operation exists, query parameters and JSON body valid). A request outside the contract is
 * answered 400 like the real server would and recorded in `violations`, which tests assert empty.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

export type Dialect = 'nautobot' | 'netbox';
type Obj = Record<string, unknown> & { id: string | number };
interface Canned {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string[]>;
  body: unknown;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CONTRACT = { nautobot: 'nautobot-3.x.openapi.json', netbox: 'netbox-4.x.openapi.json' } as const;
const VERSION = { nautobot: '3.1.8', netbox: '4.2.2' } as const;

/** OpenAPI 3.0 `nullable` → JSON Schema (Ajv does not read `nullable` without a `type`). */
function toJsonSchema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(toJsonSchema);
  if (!s || typeof s !== 'object') return s;
  const { nullable, ...rest } = s as Record<string, unknown>;
  const out = Object.fromEntries(
    Object.entries(rest).map(([k, v]) => [
      k,
      k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([p, x]) => [p, toJsonSchema(x)])) : toJsonSchema(v),
    ]),
  );
  return nullable ? { anyOf: [out, { type: 'null' }] } : out;
}

/** Which collection a nested reference field points into, per dialect. */
const REFS: Record<Dialect, Record<string, string>> = {
  nautobot: {
    status: 'extras/statuses',
    role: 'extras/roles',
    location: 'dcim/locations',
    platform: 'dcim/platforms',
    device_type: 'dcim/device-types',
    device: 'dcim/devices',
    namespace: 'ipam/namespaces',
    primary_ip4: 'ipam/ip-addresses',
    ip_address: 'ipam/ip-addresses',
    interface: 'dcim/interfaces',
    parent: 'dcim/locations',
    location_type: 'dcim/location-types',
  },
  netbox: {
    role: 'dcim/device-roles',
    site: 'dcim/sites',
    platform: 'dcim/platforms',
    device_type: 'dcim/device-types',
    device: 'dcim/devices',
    primary_ip4: 'ipam/ip-addresses',
  },
};
/** Filters named after a nested field (`location=<id or name>`, NetBox `site_id=`). */
const FILTER_FIELD: Record<string, string> = {
  site_id: 'site',
  role_id: 'role',
  platform_id: 'platform',
  device_id: 'device',
  interface_id: 'assigned_object_id',
};

export interface SotFake {
  dialect: Dialect;
  url: string;
  token: string;
  requests: RecordedRequest[];
  violations: string[];
  /** Adds an object to a collection (`dcim/devices`), filling id, url, display and stamps. */
  add(collection: string, fields: Record<string, unknown>): Obj;
  all(collection: string): Obj[];
  remove(collection: string, id: string): void;
  /** Puts back an object taken out with `remove`. */
  restore(collection: string, obj: Obj): void;
  /** The next matching requests get these answers, in order, before normal handling. */
  inject(method: string, pathPrefix: string, answers: Canned[]): void;
  /** Answers slower than this (ms), for timeout tests. */
  delayMs: number;
  close(): Promise<void>;
}

/** Starts a fake of `dialect` on an ephemeral loopback port. */
export async function startSotFake(dialect: Dialect, token = `tok-${randomUUID()}`): Promise<SotFake> {
  const contract = JSON.parse(fs.readFileSync(path.join(HERE, '..', 'contracts', CONTRACT[dialect]), 'utf8')) as {
    paths: Record<string, Record<string, { requestBody?: { content: { 'application/json': { schema: { $ref: string } } } }; 'x-query'?: unknown }>>;
    components: { schemas: Record<string, unknown> };
  };
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ $id: 'contract', components: { schemas: toJsonSchema(contract.components.schemas) } });
  const validators = new Map<string, { body?: ValidateFunction; query?: ValidateFunction }>();
  for (const [p, methods] of Object.entries(contract.paths)) {
    for (const [m, op] of Object.entries(methods)) {
      const ref = op.requestBody?.content['application/json'].schema.$ref;
      validators.set(`${m.toUpperCase()} ${p}`, {
        ...(ref ? { body: ajv.compile({ $ref: `contract${ref}` }) } : {}),
        ...(op['x-query'] ? { query: ajv.compile(op['x-query'] as object) } : {}),
      });
    }
  }
  const store = new Map<string, Map<string, Obj>>();
  const coll = (c: string) => store.get(c) ?? store.set(c, new Map()).get(c)!;
  const canned: { method: string; prefix: string; answers: Canned[] }[] = [];
  let nextInt = 1;
  let origin = '';

  const brief = (collection: string, id: unknown): unknown => {
    if (id === null || id === undefined) return null;
    const key = typeof id === 'object' ? (id as { id: unknown }).id : id;
    const o = coll(collection).get(String(key));
    if (!o) return undefined;
    if (dialect === 'nautobot') return { id: o.id, object_type: collection.replace('/', '.').replace(/s$/, ''), url: o.url };
    return {
      id: o.id,
      url: o.url,
      display: o.display,
      ...(o.name !== undefined ? { name: o.name } : {}),
      ...(o.slug !== undefined ? { slug: o.slug } : {}),
      ...(o.address !== undefined ? { address: o.address, family: { value: 4, label: 'IPv4' } } : {}),
    };
  };

  function build(collection: string, fields: Record<string, unknown>, existing?: Obj): Obj | { errors: Record<string, string[]> } {
    const id = existing?.id ?? (dialect === 'nautobot' ? randomUUID() : nextInt++);
    const obj: Obj = { ...(existing ?? {}), id };
    const errors: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(fields)) {
      const target = REFS[dialect][k];
      if (target && v !== null && !(dialect === 'netbox' && k === 'device_type')) {
        const b = brief(target, v);
        if (b === undefined) {
          errors[k] = [`Related object not found using the provided attributes: {'pk': '${String(typeof v === 'object' ? (v as { id: unknown }).id : v)}'}`];
        } else obj[k] = b;
      } else if (dialect === 'netbox' && k === 'status' && typeof v === 'string') obj[k] = { value: v, label: v.charAt(0).toUpperCase() + v.slice(1) };
      else obj[k] = v;
    }
    if (Object.keys(errors).length > 0) return { errors };
    const stamp = new Date().toISOString();
    Object.assign(obj, {
      url: `${origin}/api/${collection}/${String(id)}/`,
      display: String(obj.name ?? obj.address ?? obj.model ?? id),
      created: existing?.created ?? stamp,
      last_updated: stamp,
      custom_fields: obj.custom_fields ?? {},
      ...(dialect === 'nautobot'
        ? {
            object_type: collection.replace('/', '.').replace(/s$/, ''),
            natural_slug: String(obj.name ?? id).toLowerCase(),
            notes_url: `${origin}/api/${collection}/${String(id)}/notes/`,
          }
        : { display_url: `${origin}/${collection}/${String(id)}/` }),
    });
    return obj;
  }

  function matches(o: Obj, key: string, values: string[]): boolean {
    if (key === 'q') {
      return values.some((v) =>
        String(o.name ?? o.address ?? '')
          .toLowerCase()
          .includes(v.toLowerCase()),
      );
    }
    if (key === 'name__ic') {
      return values.some((v) =>
        String(o.name ?? '')
          .toLowerCase()
          .includes(v.toLowerCase()),
      );
    }
    const field = FILTER_FIELD[key] ?? key;
    const value = o[field];
    if (key === 'address') return values.some((v) => String(o.address).split('/')[0] === v.split('/')[0]);
    if (Array.isArray(value)) return values.some((v) => value.map(String).includes(v));
    if (value && typeof value === 'object') {
      const n = value as { id?: unknown; name?: unknown; value?: unknown };
      return values.some((v) => String(n.id) === v || n.name === v || n.value === v);
    }
    if (dialect === 'nautobot' && REFS.nautobot[field] && value === undefined) return false;
    return values.includes(String(value));
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', origin);
      const method = req.method ?? 'GET';
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : null;
      } catch {
        body = raw;
      }
      const query: Record<string, string[]> = {};
      for (const [k, v] of url.searchParams) (query[k] ??= []).push(v);
      fake.requests.push({ method, path: url.pathname, query, body });
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) =>
        setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(status, {
            'content-type': 'application/json',
            ...(dialect === 'nautobot' ? { 'api-version': '3.1' } : { 'api-version': '4.2' }),
            ...headers,
          });
          res.end(status === 204 ? undefined : JSON.stringify(payload));
        }, fake.delayMs);

      if (req.headers.authorization !== `Token ${token}`) {
        return send(403, { detail: req.headers.authorization ? 'Invalid token' : 'Authentication credentials were not provided.' });
      }
      const m = /^\/api\/([a-z-]+)\/([a-z0-9-]+)\/(?:([^/]+)\/)?$/.exec(url.pathname);
      const template = m ? `/api/${m[1]}/${m[2]}/${m[3] ? '{id}/' : ''}` : url.pathname;
      const v = validators.get(`${method} ${template}`);
      if (!v) {
        fake.violations.push(`${method} ${template}: not an operation of the contract`);
        return send(405, { detail: `Method "${method}" not allowed.` });
      }
      const typed = Object.fromEntries(Object.entries(query).map(([k, vals]) => [k, ['limit', 'offset', 'depth'].includes(k) ? Number(vals[0]) : vals]));
      for (const [what, validate, value] of [
        ['query', v.query, typed],
        ['body', v.body, body],
      ] as const) {
        if (validate && !validate(value)) {
          const msg = `${method} ${template} ${what}: ${ajv.errorsText(validate.errors)}`;
          fake.violations.push(msg);
          return send(400, { [what]: [msg] });
        }
      }
      const c = canned.find((x) => x.method === method && url.pathname.startsWith(x.prefix) && x.answers.length > 0);
      if (c) {
        const a = c.answers.shift()!;
        return send(a.status, a.body ?? {}, a.headers);
      }
      if (url.pathname === '/api/status/') {
        return send(
          200,
          dialect === 'nautobot'
            ? {
                'nautobot-version': VERSION.nautobot,
                'django-version': '4.2.16',
                'python-version': '3.12.7',
                'celery-workers-running': 1,
                'installed-apps': {},
              }
            : {
                'netbox-version': VERSION.netbox,
                'django-version': '5.1.5',
                'python-version': '3.12.3',
                'rq-workers-running': 1,
                'installed-apps': {},
                plugins: {},
              },
        );
      }
      if (url.pathname === '/api/graphql/') return send(200, graphql(body as { query: string; variables?: Record<string, unknown> }));
      const collection = `${m![1]}/${m![2]}`;
      const items = coll(collection);
      const id = m![3];
      if (method === 'GET' && !id) {
        const limit = Math.min(Number(query.limit?.[0] ?? 50), 1000);
        const offset = Number(query.offset?.[0] ?? 0);
        const filters = Object.entries(query).filter(([k]) => !['limit', 'offset', 'depth'].includes(k));
        const all = [...items.values()].filter((o) => filters.every(([k, vals]) => matches(o, k, vals)));
        const page = (o: number) => {
          const u = new URL(url);
          u.searchParams.set('limit', String(limit));
          u.searchParams.set('offset', String(o));
          return u.toString();
        };
        return send(200, {
          count: all.length,
          next: offset + limit < all.length ? page(offset + limit) : null,
          previous: offset > 0 ? page(Math.max(0, offset - limit)) : null,
          results: all.slice(offset, offset + limit),
        });
      }
      const existing = id ? items.get(id) : undefined;
      if (id && !existing) return send(404, { detail: 'Not found.' });
      if (method === 'GET') return send(200, existing);
      if (method === 'DELETE') {
        items.delete(id!);
        return send(204, null);
      }
      const built = build(collection, body as Record<string, unknown>, existing);
      if ('errors' in built) return send(400, built.errors);
      items.set(String(built.id), built);
      return send(method === 'POST' ? 201 : 200, built);
    });
  });

  /** The GraphQL answer for the cockpit's device query shape (`devices(name: …) { id name primary_ip4 { address } location { name } platform { name } }`). */
  function graphql(b: { query: string; variables?: Record<string, unknown> }) {
    if (!/\bdevices\b/.test(b.query)) return { data: null, errors: [{ message: `Cannot query field on type "Query".`, locations: [{ line: 1, column: 3 }] }] };
    const name = b.variables?.name as string[] | undefined;
    const nameOf = (c: string, ref: unknown) => (ref ? { name: coll(c).get(String((ref as { id: unknown }).id))?.name ?? null } : null);
    const devices = [...coll('dcim/devices').values()]
      .filter((d) => !name || name.includes(String(d.name)))
      .map((d) => ({
        id: d.id,
        name: d.name,
        primary_ip4: d.primary_ip4 ? { address: coll('ipam/ip-addresses').get(String((d.primary_ip4 as { id: unknown }).id))?.address ?? null } : null,
        location: nameOf('dcim/locations', d.location),
        platform: nameOf('dcim/platforms', d.platform),
      }));
    return { data: { devices } };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  origin = `http://127.0.0.1:${address.port}`;
  const fake: SotFake = {
    dialect,
    url: origin,
    token,
    requests: [],
    violations: [],
    delayMs: 0,
    add(collection, fields) {
      const built = build(collection, fields);
      if ('errors' in built) throw new Error(`fake seed ${collection}: ${JSON.stringify(built.errors)}`);
      coll(collection).set(String(built.id), built);
      return built;
    },
    all: (collection) => [...coll(collection).values()],
    remove: (collection, id) => void coll(collection).delete(id),
    restore: (collection, obj) => void coll(collection).set(String(obj.id), obj),
    inject(method, prefix, answers) {
      canned.push({ method, prefix, answers: [...answers] });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
