import { describe, expect, it } from 'vitest';
import { extractBlocks } from './helpers/doc-blocks.js';

const md = (...lines: string[]) => lines.join('\n');

describe('extractBlocks (how test/docs-examples.test.ts reads the documentation)', () => {
  it.each([
    ['an sh block is run', md('```sh', 'echo hi', '```'), { kind: 'run', lang: 'sh', body: 'echo hi', note: '' }],
    ['bash and shell are run too', md('```bash', 'true', '```'), { kind: 'run', lang: 'bash' }],
    ['a block without a language is unclassified', md('```', 'GET /x', '```'), { kind: 'unclassified', lang: '' }],
    ['a json block without a marker is unclassified', md('```json', '{}', '```'), { kind: 'unclassified' }],
    [
      'a marked json block is a response',
      md('<!-- response: POST /api/v1/parsers/parse 200 -->', '```json', '{}', '```'),
      { kind: 'response', note: 'POST /api/v1/parsers/parse 200' },
    ],
    [
      'a response compared with the output above keeps the whole note',
      md('<!-- response: POST /p 200 as printed above -->', '```json', '{}', '```'),
      { kind: 'response', note: 'POST /p 200 as printed above' },
    ],
    ['a response marker on an sh block does not make it a response', md('<!-- response: GET /x 200 -->', '```sh', 'true', '```'), { kind: 'unclassified' }],
    [
      'not-run keeps its reason',
      md('<!-- not-run: needs three machines -->', '```sh', 'opsdeck serve', '```'),
      { kind: 'not-run', note: 'needs three machines' },
    ],
    ['a marker must be on the line right before the fence', md('<!-- not-run: far away -->', '', '```sh', 'true', '```'), { kind: 'run' }],
    [
      'a fence indented in a list item is read, without the indentation',
      md('- step', '  ```sh', '  echo a', '    echo b', '  ```'),
      { kind: 'run', body: 'echo a\n  echo b' },
    ],
    ['a longer fence holds a shorter one', md('````sh', '```', 'true', '````'), { kind: 'run', body: '```\ntrue' }],
  ])('%s', (_name, text, expected) => {
    const blocks = extractBlocks('x.md', text);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toMatchObject(expected);
  });

  it('numbers blocks by the line of their opening fence and reads every block of a file', () => {
    const blocks = extractBlocks('x.md', md('# T', '', '```sh', 'a', '```', 'text', '```sh', 'b', 'c', '```'));
    expect(blocks.map((b) => [b.line, b.body])).toEqual([
      [3, 'a'],
      [7, 'b\nc'],
    ]);
  });
});
