import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyPluginAsync } from 'fastify';
import { buildPlainApp } from '../../../test/helpers/http-app.js';
import type { App } from '../../app.js';

let gates: (() => void)[] = [];
const routes: FastifyPluginAsync = async (app) => {
  app.get('/slow', { config: { public: true } }, async () => {
    await new Promise<void>((resolve) => gates.push(resolve));
    return { ok: true };
  });
  app.get('/live', { config: { public: true, admission: 'exempt' } }, async () => ({ ok: true }));
};
const openGates = () => {
  for (const g of gates.splice(0)) g();
};
const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((resolve) => setImmediate(resolve));
};

describe('admission control', () => {
  let app: App;
  beforeAll(async () => {
    ({ app } = await buildPlainApp([{ prefix: '', plugin: routes }], {
      env: { OPSDECK_HTTP_MAX_CONCURRENT: '2', OPSDECK_HTTP_QUEUE_SIZE: '1', OPSDECK_HTTP_QUEUE_TIMEOUT_MS: '600000' },
    }));
  });
  afterAll(() => app.close());

  it('runs up to the limit, queues one more in order, refuses the rest with 503 and lets the queued one in when a slot frees', async () => {
    gates = [];
    const first = [app.inject('/slow'), app.inject('/slow')];
    await until(() => gates.length === 2);
    // inject() starts on then(): start this one now, and wait until it is queued.
    const queued = app.inject('/slow').then((r) => r);
    await until(() => app.admission.queued === 1);
    const refused = await app.inject('/slow');
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toMatchObject({ code: 'OVERLOADED', status: 503 });
    // Exempt routes are answered while every slot is taken.
    expect((await app.inject('/live')).statusCode).toBe(200);
    expect(gates).toHaveLength(2);
    openGates();
    await until(() => gates.length === 1);
    openGates();
    for (const res of await Promise.all([...first, queued])) expect(res.statusCode).toBe(200);
  });
});

describe('admission control queue timeout', () => {
  let app: App;
  beforeAll(async () => {
    ({ app } = await buildPlainApp([{ prefix: '', plugin: routes }], {
      env: { OPSDECK_HTTP_MAX_CONCURRENT: '1', OPSDECK_HTTP_QUEUE_SIZE: '10', OPSDECK_HTTP_QUEUE_TIMEOUT_MS: '20' },
    }));
  });
  afterAll(() => app.close());

  it('refuses a request that waited past the queue timeout while no slot freed', async () => {
    gates = [];
    const holder = app.inject('/slow');
    await until(() => gates.length === 1);
    const waited = await app.inject('/slow');
    expect(waited.statusCode).toBe(503);
    expect(waited.json().code).toBe('OVERLOADED');
    openGates();
    expect((await holder).statusCode).toBe(200);
  });
});
