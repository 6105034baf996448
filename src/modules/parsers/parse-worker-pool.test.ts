import { afterAll, describe, expect, it } from 'vitest';
import { createParseWorkerPool } from './parse-worker-pool.js';

/** Bounded work: a catastrophic-backtracking pair is stopped within the budget (issue 4 §5). */
const EVIL = 'Value A ((a+)+b)\n\nStart\n  ^${A} -> Record\n';
const GOOD = 'Value A (\\S+)\n\nStart\n  ^${A} -> Record\n';
const pool = createParseWorkerPool({ size: 1, timeoutMs: 1000 });

afterAll(async () => {
  await pool.close();
});

describe('parse worker pool', () => {
  it('parses in a worker thread', async () => {
    await expect(pool.run({ kind: 'textfsm', templates: [{ name: 'good', content: GOOD }], text: 'x\ny\n' })).resolves.toEqual([{ a: 'x' }, { a: 'y' }]);
  });

  // Timing is not asserted here (machines vary); bench/parsers.bench.ts prints how long the stop takes.
  it('stops a catastrophic backtracking run at the budget, then recovers with a fresh worker', async () => {
    const evil = pool.run({ kind: 'textfsm', templates: [{ name: 'evil', content: EVIL }], text: `${'a'.repeat(40)}c\n` });
    // Queued behind the runaway job: must still complete once the worker is replaced.
    const queued = pool.run({ kind: 'textfsm', templates: [{ name: 'good', content: GOOD }], text: 'z\n' });
    await expect(evil).rejects.toMatchObject({ code: 'PARSER_TIMEOUT', status: 422 });
    await expect(queued).resolves.toEqual([{ a: 'z' }]);
  });

  it('rebuilds template and parse errors with their class, code and line', async () => {
    await expect(pool.run({ kind: 'textfsm', templates: [{ name: 'bad', content: 'Value A (\\S+)\n\nStart\n  ^${B}\n' }], text: 'x' })).rejects.toMatchObject({
      name: 'TemplateError',
      code: 'PARSER_TEMPLATE_INVALID',
      line: 4,
    });
    await expect(
      pool.run({ kind: 'textfsm', templates: [{ name: 'err', content: 'Value A (\\S+)\n\nStart\n  ^. -> Error "nope"\n' }], text: 'x' }),
    ).rejects.toMatchObject({ name: 'TextFsmError', code: 'PARSER_TEXT_REJECTED', message: 'Error: "nope". Rule Line: 4. Input Line: x.' });
  });

  it('runs native parsers in the worker too', async () => {
    await expect(pool.run({ kind: 'native', parser: 'ciena_saos.port_show', text: '' })).resolves.toEqual([]);
    await expect(pool.run({ kind: 'native', parser: 'nope', text: '' })).rejects.toMatchObject({ code: 'PARSER_NOT_FOUND' });
  });

  it('replaces a worker whose code space passed the limit, after its job, and keeps answering', async () => {
    const recycling = createParseWorkerPool({ size: 1, retireAtCodeBytes: 1 });
    const kept = createParseWorkerPool({ size: 1 });
    try {
      for (const text of ['a\n', 'b\n', 'c\n']) {
        await expect(recycling.run({ kind: 'textfsm', templates: [{ name: 'good', content: GOOD }], text })).resolves.toEqual([{ a: text.trim() }]);
        await expect(kept.run({ kind: 'textfsm', templates: [{ name: 'good', content: GOOD }], text })).resolves.toEqual([{ a: text.trim() }]);
      }
      // An error reply retires its worker too.
      await expect(recycling.run({ kind: 'native', parser: 'nope', text: '' })).rejects.toMatchObject({ code: 'PARSER_NOT_FOUND' });
      await expect(recycling.run({ kind: 'native', parser: 'ciena_saos.port_show', text: '' })).resolves.toEqual([]);
      expect(recycling.started()).toBe(5);
      expect(kept.started()).toBe(1);
    } finally {
      await Promise.all([recycling.close(), kept.close()]);
    }
  });

  it('refuses work after close', async () => {
    const other = createParseWorkerPool({ size: 2 });
    await other.close();
    await expect(other.run({ kind: 'native', parser: 'ciena_saos.port_show', text: '' })).rejects.toMatchObject({ code: 'PARSER_POOL_CLOSED' });
  });
});
