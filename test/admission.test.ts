import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { useTestServer } from './helpers/server.js';
import { DIALECTS } from './helpers/db.js';
import { adminToken, bearer } from './helpers/auth.js';

/** Sends a request's head and half its declared body: the request holds its admission slot until `finish()`. */
async function heldRequest(port: number, token: string): Promise<{ finish(): Promise<string> }> {
  const body = JSON.stringify({ name: 'held-device' });
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk.toString()));
  socket.write(
    `POST /api/v1/devices HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body.slice(0, 5)}`,
  );
  return {
    finish: async () => {
      // Not end(): a half-closed socket is dropped by the server before an asynchronous answer.
      socket.write(body.slice(5));
      await new Promise((resolve) => socket.once('close', resolve));
      return answer;
    },
  };
}

async function get(port: number, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe.each(DIALECTS)('admission control on %s', (dialect) => {
  // One slot and no queue: a second application request at once is refused.
  const server = useTestServer(dialect, { env: { OPSDECK_HTTP_MAX_CONCURRENT: '1', OPSDECK_HTTP_QUEUE_SIZE: '0' } });

  it('refuses requests past the limit with 503 OVERLOADED and Retry-After, while /health, /health/ready and /metrics still answer', async () => {
    const app = server().app;
    const token = await adminToken(server());
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as net.AddressInfo).port;

    const held = await heldRequest(port, token);
    // The held request is admitted once its head is read; poll until the slot is taken.
    let refused = await get(port, '/api/v1/auth/me', bearer(token));
    for (let i = 0; i < 100 && refused.status !== 503; i++) refused = await get(port, '/api/v1/auth/me', bearer(token));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(JSON.parse(refused.text)).toMatchObject({ status: 503, code: 'OVERLOADED' });

    expect((await get(port, '/health')).status).toBe(200);
    expect((await get(port, '/health/ready')).status).toBe(200);
    const metrics = await get(port, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/^opsdeck_http_requests_refused_total\{reason="queue_full"\} [1-9]/m);
    expect(metrics.text).toMatch(/^opsdeck_http_requests_in_flight 1$/m);

    expect(await held.finish()).toMatch(/^HTTP\/1\.1 201/);
    // The slot is free again.
    expect((await get(port, '/api/v1/auth/me', bearer(token))).status).toBe(200);
  });

  it('exports event-loop lag p99 and max (reset at each scrape)', async () => {
    const res = await server().app.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toMatch(/^opsdeck_nodejs_eventloop_lag_p99_seconds \d/m);
    expect(res.body).toMatch(/^opsdeck_nodejs_eventloop_lag_max_seconds \d/m);
  });
});
