import { describe, expect, it } from 'vitest';
import { createLineReader, splitLines } from './py-text.fns.js';

describe('createLineReader', () => {
  it.each([
    '',
    'a\nb\n',
    'a\nb',
    '\n\n',
    'a\r\nb\r\n\r\nc',
    'a\r\nb\rc\n',
    'a\r\r\nb',
    'a\r\n\x1cb\n',
    'a\n\u2028b\r\n',
    'caf\u00e9\r\nx\n\u00e9',
    '\r\n',
    'x\r',
    'x\v\fy\x85z\n',
  ])('reads %j as Python splitlines() splits it', (text) => expectSplitlines(text));

  it('reads long texts as splitlines() does, special characters before, across and after its checks ahead', () => {
    // Lines of 50–150 characters: tens of kilobytes span several chunks read ahead, with
    // non-ASCII text, other breaks and lone carriage returns in some lines and not others.
    const specials = ['\u00e9', '\u2028', '\v', '\x1e', '\r', '\x85', '\u{1F600}'];
    let seed = 7;
    const random = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    for (const every of [0, 3, 40, 400]) {
      let text = '';
      for (let i = 0; i < 600; i++) {
        text += 'x'.repeat(50 + random(100));
        if (every > 0 && random(every) === 0) text += specials[random(specials.length)];
        text += random(2) === 0 ? '\r\n' : '\n';
      }
      expectSplitlines(text);
      expectSplitlines(text.slice(0, -1));
    }
  });
});

function expectSplitlines(text: string): void {
  const reader = createLineReader(text);
  const lines: string[] = [];
  const ascii: boolean[] = [];
  for (let line = reader.next(); line !== null; line = reader.next()) {
    lines.push(line);
    ascii.push(reader.ascii);
  }
  expect(lines).toEqual(splitLines(text));
  expect(ascii).toEqual(lines.map((l) => Array.from(l).every((c) => c.charCodeAt(0) < 0x80)));
}
