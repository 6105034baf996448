import net from 'node:net';
import type { FieldError } from '../../platform/errors.js';

/** Scan targets: CIDRs, ranges (`a-b`, same family) and single addresses, IPv4 or IPv6. */

interface Span {
  family: 4 | 6;
  first: bigint;
  last: bigint;
}

const BITS = { 4: 32, 6: 128 } as const;

function toBig(address: string): { family: 4 | 6; value: bigint } | null {
  const family = net.isIP(address);
  if (family === 4) {
    return { family, value: address.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n) };
  }
  if (family !== 6) return null;
  if (address.includes('.')) return null; // IPv4-mapped/embedded forms: write the IPv4 address instead.
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return { family, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

/** An address from its number (IPv6 in the compressed form `net` gives back). */
export function fromBig(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => Number((value >> s) & 255n)).join('.');
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) => ((value >> s) & 0xffffn).toString(16));
  // The WHATWG URL parser prints IPv6 hosts in the canonical compressed form (RFC 5952).
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
}

/** One target entry → its span, or why not. */
export function parseTarget(entry: string): Span | string {
  const text = entry.trim();
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const base = toBig(text.slice(0, slash));
    const len = Number(text.slice(slash + 1));
    if (!base) return `'${text}' is not a CIDR: bad address`;
    const bits = BITS[base.family];
    if (!/^\d{1,3}$/.test(text.slice(slash + 1)) || len > bits) return `'${text}' is not a CIDR: prefix length must be 0-${bits}`;
    const host = BigInt(bits - len);
    const first = (base.value >> host) << host;
    if (first !== base.value) return `'${text}' has host bits set (the network is ${fromBig(base.family, first)}/${len})`;
    return { family: base.family, first, last: first + (1n << host) - 1n };
  }
  const dash = text.indexOf('-');
  if (dash >= 0) {
    const a = toBig(text.slice(0, dash));
    const b = toBig(text.slice(dash + 1));
    if (!a || !b) return `'${text}' is not a range of two addresses`;
    if (a.family !== b.family) return `'${text}' mixes IPv4 and IPv6`;
    if (b.value < a.value) return `'${text}' ends before it starts`;
    return { family: a.family, first: a.value, last: b.value };
  }
  const one = toBig(text);
  return one ? { family: one.family, first: one.value, last: one.value } : `'${text}' is not an address, CIDR or range`;
}

/** Spans → the same spans sorted and merged, per family. */
function merge(spans: Span[]): Span[] {
  const sorted = [...spans].sort((x, y) => x.family - y.family || (x.first < y.first ? -1 : x.first > y.first ? 1 : 0));
  const out: Span[] = [];
  for (const s of sorted) {
    const prev = out[out.length - 1];
    if (prev && prev.family === s.family && s.first <= prev.last + 1n) prev.last = s.last > prev.last ? s.last : prev.last;
    else out.push({ ...s });
  }
  return out;
}

/** Spans minus the excluded spans. */
function subtract(spans: Span[], excludes: Span[]): Span[] {
  let out = spans;
  for (const x of excludes) {
    out = out.flatMap((s) => {
      if (s.family !== x.family || x.last < s.first || x.first > s.last) return [s];
      const parts: Span[] = [];
      if (x.first > s.first) parts.push({ family: s.family, first: s.first, last: x.first - 1n });
      if (x.last < s.last) parts.push({ family: s.family, first: x.last + 1n, last: s.last });
      return parts;
    });
  }
  return out;
}

export interface ExpandedTargets {
  addresses: string[];
  errors: FieldError[];
}

/**
 * Targets and excludes → the addresses to probe (deduplicated, in order), or field errors:
 * a bad entry names `body.targets.<i>`; more than `maxHosts` addresses names `body.targets`
 * before anything is enumerated (an IPv6 /64 is refused by its size, never walked).
 */
export function expandTargets(targets: readonly string[], excludes: readonly string[], maxHosts: number): ExpandedTargets {
  const errors: FieldError[] = [];
  const parse = (list: readonly string[], field: string) =>
    list.flatMap((entry, i) => {
      const s = parseTarget(entry);
      if (typeof s === 'string') {
        errors.push({ path: `body.${field}.${i}`, message: s });
        return [];
      }
      return [s];
    });
  const spans = parse(targets, 'targets');
  const excluded = parse(excludes, 'exclude');
  if (errors.length > 0) return { addresses: [], errors };
  const remaining = subtract(merge(spans), merge(excluded));
  const total = remaining.reduce((n, s) => n + (s.last - s.first + 1n), 0n);
  if (total > BigInt(maxHosts)) {
    return {
      addresses: [],
      errors: [
        { path: 'body.targets', message: `the targets hold ${total} addresses; a scan may probe at most ${maxHosts} (setting discovery.max_hosts_per_scan)` },
      ],
    };
  }
  if (total === 0n) return { addresses: [], errors: [{ path: 'body.targets', message: 'no address is left after the excludes' }] };
  const addresses: string[] = [];
  for (const s of remaining) for (let v = s.first; v <= s.last; v++) addresses.push(fromBig(s.family, v));
  return { addresses, errors };
}

/** A stable key for "the same range" (previous-scan diffs): the merged target spans, excludes removed. */
export function rangeKey(targets: readonly string[], excludes: readonly string[]): string {
  const spans = (l: readonly string[]) => l.map(parseTarget).filter((s): s is Span => typeof s !== 'string');
  const key = subtract(merge(spans(targets)), merge(spans(excludes)))
    .map((s) => `${fromBig(s.family, s.first)}-${fromBig(s.family, s.last)}`)
    .join(',');
  return key.length > 200 ? key.slice(0, 180) + `…${key.length}` : key;
}
