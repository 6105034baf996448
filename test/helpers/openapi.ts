import { createTestServer } from './server.js';

/** The OpenAPI document of the full app (SQLite, single node), as served at /api/v1/openapi.json. */
export async function generateOpenApi(): Promise<Record<string, unknown>> {
  const server = await createTestServer('sqlite');
  try {
    const res = await server.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    const spec = res.json() as Record<string, unknown>;
    // The served document carries the running version; the committed one is version-stable.
    return spec;
  } finally {
    await server.close();
  }
}
