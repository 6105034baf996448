import { newDict, setKey } from './values.js';

/** Variables of one frame. A Map: scopes are created per loop and macro call, and null-prototype objects are slow to build. */
export class Scope {
  readonly vars = new Map<string, unknown>();
  constructor(readonly parent: Scope | null) {}
  lookup(name: string): unknown {
    // Template values are never JavaScript `undefined` (None is null), so `get` alone tells presence.
    const own = this.vars.get(name);
    if (own !== undefined) return own;
    for (let s = this.parent; s !== null; s = s.parent) {
      const v = s.vars.get(name);
      if (v !== undefined) return v;
    }
    return MISSING_VAR;
  }
  setAll(from: Record<string, unknown>): void {
    for (const k of Object.keys(from)) this.vars.set(k, from[k]);
  }
  flatten(): Record<string, unknown> {
    const chain: Scope[] = [this];
    for (let s = this.parent; s !== null; s = s.parent) chain.unshift(s);
    const out = newDict();
    for (const s of chain) for (const [k, v] of s.vars) setKey(out, k, v);
    return out;
  }
}
export const MISSING_VAR = Symbol('missing');

/**
 * A render's output. Appending to one string (V8 builds a rope, flattened once at the end)
 * measured faster than pushing parts and joining them.
 */
export class Output {
  s = '';
  write(s: string): void {
    this.s += s;
  }
  toString(): string {
    return this.s;
  }
}
