import { afterAll, beforeAll } from 'vitest';
import type { Dialect } from '../../src/platform/db/database.js';
import { useTestServer, type TestServer, type TestServerOptions } from './server.js';

/** useTestServer listening on a loopback port, for clients that need a real socket (tus-js-client, fetch). */
export function useListeningTestServer(dialect: Dialect, options: TestServerOptions = {}): { server: () => TestServer; base: () => string } {
  const server = useTestServer(dialect, options);
  let base = '';
  beforeAll(async () => {
    base = await server().app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server().app.close();
  });
  return { server, base: () => base };
}
