import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockEnv, runDocBlock } from './helpers/doc-runner.js';

/** The harness of test/docs-examples.test.ts must fail a block whenever a reader's run would. */
describe('runDocBlock (the bash side of the documentation tests)', () => {
  let server: http.Server;
  let base = '';
  let cwd = '';
  const run = (script: string, env: Record<string, string> = {}) => runDocBlock(script, { cwd, env: blockEnv(base, env), timeoutMs: 60_000 });

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      res.statusCode = req.url === '/ok' ? 200 : 404;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: req.url, auth: req.headers.authorization ?? null }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-doc-runner-'));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  it.each([['http://127.0.0.1:8000/ok'], ['http://localhost:8000/ok'], ['localhost:8000/ok'], ['127.0.0.1:8000/ok']])(
    'sends curl %s to the test server, one answer per line',
    async (url) => {
      const r = await run(`curl -s ${url} -H "authorization: Bearer $ACCESS_TOKEN"\ncurl -s ${url}`, { ACCESS_TOKEN: 'abc' });
      expect(r.code).toBe(0);
      expect(
        r.stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l)),
      ).toEqual([
        { url: '/ok', auth: 'Bearer abc' },
        { url: '/ok', auth: null },
      ]);
    },
  );

  it.each([
    ['a curl answered 404', 'curl -s http://127.0.0.1:8000/missing\necho after'],
    ['a failing command before the last', 'false\ntrue'],
    ['a failing curl at the head of a pipeline', 'curl -s http://127.0.0.1:8000/missing | cat\ntrue'],
    ['a failing curl inside an assignment', 'ID=$(curl -s http://127.0.0.1:8000/missing | jq -r .url)\necho "$ID"'],
  ])('fails the block on %s', async (_name, script) => {
    const r = await run(script);
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain('after');
  });

  it('fails a block whose `opsdeck serve` stops at start-up, showing why', async () => {
    const r = await run('OPSDECK_PORT=eighty opsdeck serve\necho after', { OPSDECK_DATA_DIR: cwd });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('OPSDECK_PORT="eighty" is invalid');
    expect(r.stdout).not.toContain('after');
  });

  it("runs `npx opsdeck` and `opsdeck` as this repository's command line", async () => {
    const r = await run('npx opsdeck --version\nopsdeck --help | grep -c "Usage: opsdeck"');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^\d+\.\d+\.\d+/), '1']);
  });
});
