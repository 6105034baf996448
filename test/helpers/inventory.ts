import type { LightMyRequestResponse } from 'fastify';
import type { Kysely } from 'kysely';
import { beforeAll } from 'vitest';
import type { Dialect } from '../../src/platform/db/database.js';
import { adminToken, bearer } from './auth.js';
import { useTestServer, type TestServer } from './server.js';

/** A test server plus an admin client for the inventory's HTTP tests. */
export function useInventoryApi(dialect: Dialect) {
  const server = useTestServer(dialect);
  let headers: Record<string, string> = {};
  beforeAll(async () => {
    headers = bearer(await adminToken(server()));
  });
  const call = async (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: unknown,
    extra: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> =>
    server().app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { ...headers, ...extra },
      ...(payload === undefined ? {} : typeof payload === 'string' ? { payload } : { payload: payload as object }),
    });
  return {
    server: (): TestServer => server(),
    headers: () => headers,
    get: (url: string) => call('GET', url),
    post: (url: string, body: unknown, extra?: Record<string, string>) => call('POST', url, body, extra),
    patch: (url: string, body: unknown) => call('PATCH', url, body),
    del: (url: string, body?: unknown) => call('DELETE', url, body),
    /** POSTs and returns the JSON, failing loudly on an unexpected status. */
    async create(url: string, body: unknown): Promise<Record<string, any>> {
      const res = await call('POST', url, body);
      if (res.statusCode !== 201) throw new Error(`POST ${url} → ${res.statusCode} ${res.body}`);
      return res.json();
    },
  };
}

/** Count of rows in a table (to assert that nothing was written). */
export async function countRows(server: TestServer, table: string): Promise<number> {
  const db = server.modules.database.db as unknown as Kysely<any>;
  const r = (await db.selectFrom(table).select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()) as { n: unknown };
  return Number(r.n);
}
