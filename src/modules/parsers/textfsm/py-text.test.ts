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
  ])('reads %j as Python splitlines() splits it', (text) => {
    const reader = createLineReader(text);
    const lines: string[] = [];
    const ascii: boolean[] = [];
    for (let line = reader.next(); line !== null; line = reader.next()) {
      lines.push(line);
      ascii.push(reader.ascii);
    }
    expect(lines).toEqual(splitLines(text));
    expect(ascii).toEqual(lines.map((l) => Array.from(l).every((c) => c.charCodeAt(0) < 0x80)));
  });
});
