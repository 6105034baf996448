import { describe, expect, it } from 'vitest';
import { isUuidV7, newId } from './ids.js';

describe('newId', () => {
  it('makes valid, unique UUIDv7s that sort in the order they were made, carrying the time', () => {
    const before = Date.now();
    const ids = Array.from({ length: 20_000 }, () => newId());
    const after = Date.now();
    expect(ids.every(isUuidV7)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    const msOf = (id: string) => parseInt(id.replaceAll('-', '').slice(0, 12), 16);
    expect(msOf(ids[0]!)).toBeGreaterThanOrEqual(before);
    // Many ids in one millisecond count up within it; the counter may carry into the next.
    expect(msOf(ids.at(-1)!)).toBeLessThanOrEqual(after + 1);
  });

  it('draws fresh random bits for every id', () => {
    const tails = new Set(Array.from({ length: 1000 }, () => newId().slice(-12)));
    expect(tails.size).toBe(1000);
  });
});
