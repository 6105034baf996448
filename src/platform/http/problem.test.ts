import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { UpstreamError } from '../errors.js';
import { registerProblemHandlers } from './problem.js';

const app = Fastify({ logger: false });
registerProblemHandlers(app);
app.get('/upstream', async () => {
  throw new UpstreamError('GIT_AUTH_FAILED', 'the remote refused the credentials');
});
afterAll(() => app.close());

describe('problem+json mapping', () => {
  it('answers an upstream failure (a device, a git remote, an SMTP server) with 502 and its code', async () => {
    const res = await app.inject({ method: 'GET', url: '/upstream' });
    expect(res.statusCode).toBe(502);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 502, code: 'GIT_AUTH_FAILED', detail: 'the remote refused the credentials' });
  });
});
