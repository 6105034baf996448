import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken } from './helpers/auth.js';
import { createPgDatabase } from './helpers/db.js';
import { documentationBlocks, documentationFiles, type DocBlock } from './helpers/doc-blocks.js';
import { blockEnv, runDocBlock } from './helpers/doc-runner.js';
import { ROOT } from './helpers/process.js';
import { redisTestUrl, requireRedis } from './helpers/redis.js';
import { TEST_ADMIN_PASSWORD, useTestServer } from './helpers/server.js';

/*
 * Every example in README.md and docs/*.md is executed (see helpers/doc-blocks.ts for how a block
 * is classified). Conventions for `sh` blocks, all written as a user would type them:
 * - `curl … http://127.0.0.1:8000/…` reaches a real test server (the URL is rewritten to its port)
 *   and must answer 2xx: the harness adds `--fail-with-body -sS`;
 * - `$ACCESS_TOKEN` (or `$TOKEN`) is an admin's access token, as after the README's sign-in, and
 *   `$OPSDECK_ADMIN_PASSWORD` the admin password the server was started with;
 * - `opsdeck …` / `npx opsdeck …` run this repository's CLI (src/main.ts) on the server's data dir;
 *   `opsdeck serve` and `opsdeck worker` are started in the background, must reach their ready log
 *   line, and must exit 0 on SIGTERM when the block ends;
 * - the block runs in a working directory holding test/fixtures/docs/ (sample files the examples
 *   read) with `OPSDECK_TEXTFSM_LIBRARY_DIRS` set to the small library in there;
 * - the placeholders in PLACEHOLDERS (your PostgreSQL, your Redis) are replaced by private ones;
 * - the whole block runs with `set -eo pipefail`: every command must succeed.
 * The bash side is helpers/doc-prelude.sh; its own behaviour is tested in doc-runner.test.ts.
 */

const FIXTURES = path.join(ROOT, 'test/fixtures/docs');
const BLOCK_TIMEOUT_MS = 180_000;
/** A few blocks cannot run here (the whole test suite, network access); more means untested docs. */
const MAX_NOT_RUN = 5;

const dropLater: (() => Promise<void>)[] = [];
const PLACEHOLDERS: Record<string, () => Promise<string>> = {
  'postgres://opsdeck:secret@db:5432/opsdeck': async () => {
    const pg = await createPgDatabase();
    dropLater.push(pg.drop);
    return pg.url;
  },
  'redis://redis:6379': async () => {
    await requireRedis();
    return redisTestUrl();
  },
};

async function substitutePlaceholders(body: string): Promise<string> {
  let out = body;
  for (const [placeholder, value] of Object.entries(PLACEHOLDERS)) {
    if (out.includes(placeholder)) out = out.split(placeholder).join(await value());
  }
  return out;
}

const blocks = documentationBlocks();

describe('documentation blocks', () => {
  it('are each run, checked against the API schema, or marked not-run with a reason', () => {
    const unclassified = blocks.filter((b) => b.kind === 'unclassified').map((b) => `${b.file}:${b.line} (\`\`\`${b.lang})`);
    expect(unclassified, 'a block needs the language sh (run), json after <!-- response: … --> or <!-- not-run: reason -->').toEqual([]);
    const notRun = blocks.filter((b) => b.kind === 'not-run');
    console.info(
      `documentation blocks: ${blocks.filter((b) => b.kind === 'run').length} run, ${blocks.filter((b) => b.kind === 'response').length} checked, ${notRun.length} not run:\n${notRun.map((b) => `  ${b.file}:${b.line} — ${b.note}`).join('\n')}`,
    );
    for (const b of notRun) expect(b.note.length, `${b.file}:${b.line} needs a reason`).toBeGreaterThan(10);
    expect(notRun.length).toBeLessThanOrEqual(MAX_NOT_RUN);
    expect(blocks.filter((b) => b.kind === 'run').length).toBeGreaterThan(10);
  });
});

describe('README.md', () => {
  it('opens with the two commands: start it, test it', () => {
    const first = blocks.find((b) => b.file === 'README.md');
    expect(first?.body.split('\n').map((l) => l.replace(/\s+#.*$/, ''))).toEqual(['npm install && npm start', 'npm test']);
  });
});

// A file with no block to run or check needs no server.
const filesWithExamples = documentationFiles().filter((f) => blocks.some((b) => b.file === f && (b.kind === 'run' || b.kind === 'response')));

describe.each(filesWithExamples)('the examples of %s', (file) => {
  const server = useTestServer('sqlite', { env: { OPSDECK_TEXTFSM_LIBRARY_DIRS: path.join(FIXTURES, 'textfsm-library') } });
  let base = '';
  let workDir = '';
  let spec: Record<string, unknown> = {};
  const mine = blocks.filter((b) => b.file === file);

  beforeAll(async () => {
    base = await server().app.listen({ host: '127.0.0.1', port: 0 });
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-docs-'));
    fs.cpSync(FIXTURES, workDir, { recursive: true });
    spec = (await server().app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
  });
  afterAll(async () => {
    for (const drop of dropLater.splice(0)) await drop();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('run as written: every command succeeds and every response is 2xx', async () => {
    const token = await adminToken(server());
    const env = blockEnv(base, {
      OPSDECK_DATA_DIR: server().config.dataDir,
      OPSDECK_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
      OPSDECK_TEXTFSM_LIBRARY_DIRS: path.join(workDir, 'textfsm-library'),
      // a private BullMQ prefix, so a cluster example shares Redis with no other test
      OPSDECK_JOBS_QUEUE: `opsdeck-test-docs-${randomBytes(5).toString('hex')}`,
      OPSDECK_LOG_LEVEL: 'warn',
      ACCESS_TOKEN: token,
      TOKEN: token,
    });
    const failures: string[] = [];
    const timings: string[] = [];
    const outputs = new Map<DocBlock, string>();
    for (const block of mine.filter((b) => b.kind === 'run')) {
      const started = performance.now();
      const r = await runDocBlock(await substitutePlaceholders(block.body), { cwd: workDir, env, timeoutMs: BLOCK_TIMEOUT_MS });
      timings.push(`${block.file}:${block.line} ${Math.round(performance.now() - started)} ms`);
      outputs.set(block, r.stdout);
      if (r.code !== 0) {
        failures.push(
          `${block.file}:${block.line} exited ${r.code}\n--- block\n${block.body}\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`,
        );
      }
    }
    for (const block of mine.filter((b) => b.kind === 'response')) {
      const before = mine[mine.indexOf(block) - 1];
      const problem = checkResponse(spec, block, before && outputs.get(before));
      if (problem) failures.push(`${block.file}:${block.line} ${problem}`);
    }
    console.info(timings.join('\n'));
    expect(failures.join('\n\n')).toBe('');
  }, 600_000);
});

/**
 * Validates a `json` block against the response schema named by its marker, and with `as printed
 * above` compares it with the last line the block before it printed; returns the problem.
 */
function checkResponse(spec: Record<string, unknown>, block: DocBlock, printedAbove: string | undefined): string | undefined {
  const m = /^(GET|POST|PUT|PATCH|DELETE) (\S+) (\d{3})( as printed above)?$/.exec(block.note);
  if (!m) return `bad marker "${block.note}": expected <!-- response: METHOD /path STATUS [as printed above] -->`;
  const [, method, route, status, asPrinted] = m;
  const op = (spec.paths as Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>)[route!]?.[
    method!.toLowerCase()
  ];
  const schema = op?.responses?.[status!]?.content?.['application/json']?.schema;
  if (!schema) return `${block.note}: no such response in the OpenAPI document`;
  let value: unknown;
  try {
    value = JSON.parse(block.body);
  } catch (err) {
    return `is not JSON: ${(err as Error).message}`;
  }
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (ajvFormats.default as unknown as (a: Ajv2020) => void)(ajv);
  // `#/components/…` references resolve inside the compiled root, which carries the components.
  const validate = ajv.compile({ ...(schema as object), components: spec.components });
  if (!validate(value)) return `does not match ${block.note}: ${ajv.errorsText(validate.errors)}`;
  if (asPrinted) {
    const printed = printedAbove?.trim().split('\n').at(-1);
    if (printed === undefined) return 'expects the output of an sh block right above it';
    try {
      if (!isDeepStrictEqual(JSON.parse(printed), value)) return `differs from what the block above printed:\n${printed}`;
    } catch {
      return `the block above did not print JSON last: ${printed}`;
    }
  }
  return undefined;
}
