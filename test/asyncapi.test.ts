import fs from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from './helpers/server.js';
import { adminToken, bearer } from './helpers/auth.js';

type Message = { payload: Record<string, unknown> };
type AsyncApi = { asyncapi: string; components: { messages: Record<string, Message> }; channels: { socket: { messages: Record<string, unknown> } } };

/**
 * The AsyncAPI document of the WebSocket is the committed one, and every frame a real session
 * exchanges (control replies, refusals, a run's log/status/end, domain events) is one of its
 * messages: the payload schemas are the TypeBox schemas the document is generated from.
 */
describe('the AsyncAPI document of /api/v1/ws', () => {
  let server: TestServer;
  let base: string;
  let token: string;
  beforeAll(async () => {
    server = await createTestServer('sqlite');
    base = await server.app.listen({ host: '127.0.0.1', port: 0 });
    token = await adminToken(server);
  }, 120_000);
  afterAll(async () => server?.close());

  it('is served next to the OpenAPI document, linked from it, and matches docs/asyncapi.json (run `npm run docs`)', async () => {
    const served = (await server.app.inject({ method: 'GET', url: '/api/v1/asyncapi.json' })).json() as AsyncApi;
    expect(served).toEqual(JSON.parse(fs.readFileSync(new URL('../docs/asyncapi.json', import.meta.url), 'utf8')));
    expect(served.asyncapi).toBe('3.0.0');
    const openapi = (await server.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as { externalDocs?: { url: string } };
    expect(openapi.externalDocs?.url).toBe('/api/v1/asyncapi.json');
  });

  it('describes every frame of a real session', async () => {
    const doc = (await server.app.inject({ method: 'GET', url: '/api/v1/asyncapi.json' })).json() as AsyncApi;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajvFormats.default(ajv as never);
    const validators = Object.entries(doc.components.messages).map(([name, m]) => ({ name, check: ajv.compile(m.payload) }));
    const which = (frame: unknown) => validators.filter((v) => v.check(frame)).map((v) => v.name);

    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/ws`, { headers: bearer(token) });
    const frames: Record<string, unknown>[] = [];
    ws.on('message', (d: Buffer) => frames.push(JSON.parse(d.toString('utf8')) as Record<string, unknown>));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const waitFor = async (pred: (f: Record<string, unknown>) => boolean) => {
      const until = Date.now() + 20_000;
      while (!frames.some(pred)) {
        if (Date.now() > until) throw new Error(`no such frame; got ${JSON.stringify(frames).slice(-1200)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const sent = [
      { type: 'subscribe', channel: 'events' },
      { type: 'subscribe', channel: 'system.logs' },
      { type: 'subscribe', channel: 'job-run:0192f0a0-1111-7000-8000-00000000f023' },
      { type: 'hello' },
    ];
    try {
      await waitFor((f) => f.type === 'ready');
      for (const m of sent) ws.send(JSON.stringify(m));
      await waitFor((f) => f.type === 'subscribed' && f.channel === 'system.logs');
      await waitFor((f) => f.type === 'error' && f.code === 'WS_BAD_MESSAGE');
      const run = await server.app.inject({
        method: 'POST',
        url: '/api/v1/jobs/runs',
        headers: bearer(token),
        payload: { type: 'noop', targets: ['asyncapi.invalid'] },
      });
      expect(run.statusCode, run.body).toBeLessThan(300);
      const runChannel = `job-run:${(run.json() as { id?: string; run_id?: string }).id ?? (run.json() as { run_id: string }).run_id}`;
      const subscribe = { type: 'subscribe', channel: runChannel, after: 0 };
      ws.send(JSON.stringify(subscribe));
      await waitFor((f) => f.type === 'end' && f.channel === runChannel);
      await waitFor((f) => f.type === 'event');
      const unsubscribe = { type: 'unsubscribe', channel: 'events' };
      ws.send(JSON.stringify(unsubscribe));
      await waitFor((f) => f.type === 'unsubscribed');
      for (const m of [...sent.slice(0, 3), subscribe, unsubscribe]) expect(which(m), JSON.stringify(m)).toHaveLength(1);
    } finally {
      ws.close();
    }
    const seen = new Set(frames.map((f) => String(f.type)));
    for (const type of ['ready', 'subscribed', 'unsubscribed', 'error', 'log', 'end', 'event']) expect(seen, type).toContain(type);
    for (const f of frames) expect(which(f), JSON.stringify(f).slice(0, 300)).toEqual([f.type]);
    expect(doc.channels.socket.messages).toEqual(Object.fromEntries(validators.map((v) => [v.name, { $ref: `#/components/messages/${v.name}` }])));
  }, 120_000);
});
