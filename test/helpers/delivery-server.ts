import { bearer } from './auth.js';
import { useTestServer } from './server.js';
import type { Dialect } from '../../src/platform/db/database.js';

/**
 * A test server for delivery tests (fast retries: base 100 ms, 3 attempts; names resolved only
 * to the loopback `hosts`, never the machine's DNS) and an API caller with a bearer token.
 */
export function useDeliveryServer(dialect: Dialect, hosts: readonly string[]) {
  const server = useTestServer(dialect, {
    resolve: async (host: string) => {
      if (hosts.includes(host)) return ['127.0.0.1'];
      throw Object.assign(new Error(`unknown host ${host}`), { code: 'ENOTFOUND' });
    },
    env: {
      OPSDECK_EGRESS_ALLOW_INTERNAL: '127.0.0.1/32',
      OPSDECK_WEBHOOKS_RETRY_BASE_MS: '100',
      OPSDECK_WEBHOOKS_MAX_ATTEMPTS: '3',
      OPSDECK_EVENTS_POLL_MS: '100',
    },
  });
  const call = async (method: string, url: string, token: string, payload?: unknown) => {
    const res = await server().app.inject({
      method: method as 'GET',
      url,
      headers: bearer(token),
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
    return { status: res.statusCode, body: res.body ? (res.json() as Record<string, unknown>) : {}, raw: res.body };
  };
  return { server, call };
}
