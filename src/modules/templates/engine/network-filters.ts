import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { Document, isScalar, visit } from 'yaml';
import { LinearRegexError, linearMatches } from '../../../platform/linear-regex.js';
import { pyJsonDumps } from './filters.js';
import type { FilterFn, Renderer, TestFn } from './render.js';
import { toList, toStr, truthy } from './runtime.js';
import { Markup, PyFloat, TemplateError, Undefined, hasKey, isDict, isNumber, isString, newDict, num, setKey, tuple } from './values.js';

/**
 * The Ansible filters network templates use (ansible.utils ipaddr family, ansible-core data and
 * regex filters), written to give what Ansible gives; docs/templates.md lists them with examples.
 * Regular expressions are RE2 (linear time): a pattern with backreferences or lookaround is refused.
 */

interface Ip {
  version: 4 | 6;
  ip: bigint;
  prefix: number;
  /** The input named a network (`a/b`), not a bare address. */
  network: boolean;
}

const bits = (v: 4 | 6): number => (v === 4 ? 32 : 128);

function parseIp(value: unknown): Ip | null {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 2 ** 32) {
    return { version: 4, ip: BigInt(value), prefix: 32, network: false };
  }
  if (!isString(value)) return null;
  const s = String(value).trim();
  const [addr, pfx, ...rest] = s.split('/');
  if (rest.length > 0 || addr === undefined) return null;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    if (ipaddr.IPv4.isValidFourPartDecimal(addr)) parsed = ipaddr.IPv4.parse(addr);
    else if (addr.includes(':') && ipaddr.IPv6.isValid(addr)) parsed = ipaddr.IPv6.parse(addr);
    else return null;
  } catch {
    return null;
  }
  const version = parsed.kind() === 'ipv4' ? 4 : 6;
  let ip = 0n;
  for (const b of parsed.toByteArray()) ip = (ip << 8n) | BigInt(b);
  let prefix = bits(version);
  if (pfx !== undefined) {
    if (/^\d+$/.test(pfx)) prefix = Number(pfx);
    else if (version === 4 && ipaddr.IPv4.isValidFourPartDecimal(pfx)) {
      const p = ipaddr.IPv4.parse(pfx).prefixLengthFromSubnetMask();
      if (p === null) return null;
      prefix = p;
    } else return null;
    if (prefix > bits(version)) return null;
  }
  return { version, ip, prefix, network: pfx !== undefined };
}

function fmt(version: 4 | 6, ip: bigint): string {
  if (version === 4) return [24n, 16n, 8n, 0n].map((s) => Number((ip >> s) & 0xffn)).join('.');
  const parts: number[] = [];
  for (let i = 7; i >= 0; i--) parts.push(Number((ip >> BigInt(i * 16)) & 0xffffn));
  return new ipaddr.IPv6(parts).toRFC5952String();
}

const maskOf = (v: Ip): bigint => ((1n << BigInt(bits(v.version))) - 1n) ^ hostmaskOf(v);
const hostmaskOf = (v: Ip): bigint => (1n << BigInt(bits(v.version) - v.prefix)) - 1n;
const networkOf = (v: Ip): bigint => v.ip & maskOf(v);
const broadcastOf = (v: Ip): bigint => networkOf(v) | hostmaskOf(v);
const sizeOf = (v: Ip): bigint => 1n << BigInt(bits(v.version) - v.prefix);
const isHost = (v: Ip): boolean => sizeOf(v) === 1n || v.ip !== networkOf(v) || v.version === 6 || v.prefix >= bits(v.version) - 1;

function isPrivate(v: Ip): boolean {
  const a = ipaddr.parse(fmt(v.version, v.ip)).range();
  return ['private', 'uniqueLocal', 'loopback', 'linkLocal', 'carrierGradeNat', 'reserved'].includes(a);
}

function query(v: Ip, q: string, original: string): unknown {
  const sz = sizeOf(v);
  switch (q) {
    case '':
      return v.network ? `${fmt(v.version, v.ip)}/${v.prefix}` : fmt(v.version, v.ip);
    case 'address':
      return fmt(v.version, v.ip);
    case 'host':
      return sz === 1n ? `${fmt(v.version, v.ip)}/${v.prefix}` : isHost(v) ? `${fmt(v.version, v.ip)}/${v.prefix}` : false;
    case 'host/prefix':
      return v.network && isHost(v) && sz > 1n ? `${fmt(v.version, v.ip)}/${v.prefix}` : false;
    case 'network':
      return fmt(v.version, networkOf(v));
    case 'net':
      return v.network && v.ip === networkOf(v) ? `${fmt(v.version, v.ip)}/${v.prefix}` : false;
    case 'netmask':
      return fmt(v.version, maskOf(v));
    case 'hostmask':
    case 'wildcard':
      return fmt(v.version, hostmaskOf(v));
    case 'prefix':
      return v.prefix;
    case 'size':
      return Number(sz);
    case 'broadcast':
      return sz > 2n ? fmt(v.version, broadcastOf(v)) : false;
    case 'cidr':
    case 'subnet':
    case 'network/prefix':
      return `${fmt(v.version, networkOf(v))}/${v.prefix}`;
    case 'network_netmask':
      return `${fmt(v.version, networkOf(v))} ${fmt(v.version, maskOf(v))}`;
    case 'network_wildcard':
      return `${fmt(v.version, networkOf(v))} ${fmt(v.version, hostmaskOf(v))}`;
    case 'first_usable':
      return sz > 1n ? fmt(v.version, networkOf(v) + (sz === 2n ? 0n : 1n)) : false;
    case 'last_usable':
      return sz > 1n ? fmt(v.version, broadcastOf(v) - (sz === 2n ? 0n : 1n)) : false;
    case 'range_usable':
      return sz > 1n ? `${fmt(v.version, networkOf(v) + (sz === 2n ? 0n : 1n))}-${fmt(v.version, broadcastOf(v) - (sz === 2n ? 0n : 1n))}` : false;
    case 'ipv4':
      return v.version === 4 ? original : false;
    case 'ipv6':
      return v.version === 6 ? original : false;
    case 'public':
      return isPrivate(v) ? false : original;
    case 'private':
      return isPrivate(v) ? original : false;
    case 'wrap':
    case 'ipwrap':
      return v.version === 6 ? (v.network ? `[${fmt(6, v.ip)}]/${v.prefix}` : `[${fmt(6, v.ip)}]`) : original;
    case 'bool':
      return true;
    case 'int':
      return v.network ? `${v.ip}/${v.prefix}` : Number(v.ip);
    case 'revdns':
      return revDns(v);
    default: {
      if (/^-?\d+$/.test(q)) {
        const n = BigInt(q);
        const idx = n >= 0n ? networkOf(v) + n : broadcastOf(v) + n + 1n;
        if (idx < networkOf(v) || idx > broadcastOf(v)) return false;
        return `${fmt(v.version, idx)}/${v.prefix}`;
      }
      throw new TemplateError('runtime', `ipaddr: unknown filter type: ${q}`);
    }
  }
}

function revDns(v: Ip): string {
  if (v.version === 4) return fmt(4, v.ip).split('.').reverse().join('.') + '.in-addr.arpa.';
  return v.ip.toString(16).padStart(32, '0').split('').reverse().join('.') + '.ip6.arpa.';
}

function ipFilter(version: 4 | 6 | null, q0?: string): FilterFn {
  const one = (value: unknown, q: string): unknown => {
    if (value === null || value === false || value === true || value === '' || value instanceof Undefined) return false;
    const v = parseIp(value);
    if (!v || (version !== null && v.version !== version)) return false;
    return query(v, q, isString(value) ? String(value).trim() : String(value));
  };
  return (_r, value, args) => {
    const q = q0 ?? (args[0] === undefined || args[0] === null ? '' : isNumber(args[0]) ? String(num(args[0])) : toStr(args[0]));
    if (Array.isArray(value)) return value.map((x) => one(x, q)).filter((x) => x !== false && x !== null);
    return one(value, q);
  };
}

function ipmath(_r: Renderer, value: unknown, args: unknown[]): unknown {
  const v = parseIp(value);
  if (!v) throw new TemplateError('runtime', `ipmath(): You must pass a valid IP address; ${toStr(value)} is invalid`);
  const res = v.ip + BigInt(Math.trunc(num(args[0])));
  if (res < 0n || res >= 1n << BigInt(bits(v.version))) throw new TemplateError('runtime', 'ipmath(): the result is out of range');
  return fmt(v.version, res);
}

function nthhost(_r: Renderer, value: unknown, args: unknown[]): unknown {
  const v = parseIp(value);
  if (!v) return false;
  const n = BigInt(Math.trunc(num(args[0])));
  const idx = n >= 0n ? networkOf(v) + n : broadcastOf(v) + n + 1n;
  return idx < networkOf(v) || idx > broadcastOf(v) ? false : fmt(v.version, idx);
}

// --- data filters ---

function plain(v: unknown): unknown {
  if (v instanceof PyFloat) return v.v;
  if (v instanceof Markup) return v.s;
  if (v instanceof Undefined) throw new TemplateError('undefined', v.hint);
  if (Array.isArray(v)) return v.map(plain);
  if (isDict(v)) {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v)) Object.defineProperty(o, k, { value: plain(v[k]), enumerable: true, writable: true, configurable: true });
    return o;
  }
  return v;
}

const YAML11 = { lineWidth: 0, minContentWidth: 0, flowCollectionPadding: false, singleQuote: true };
/** Strings PyYAML (YAML 1.1) would read back as booleans, so it quotes them. */
const YAML11_BOOL = /^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$/;

function yamlScalar(v: unknown): string {
  if (typeof v === 'string' && YAML11_BOOL.test(v)) return `'${v}'`;
  return new Document(v).toString(YAML11).replace(/\n$/, '');
}

/** PyYAML's block style as to_nice_yaml calls it: keys sorted, sequences in mappings not indented, `-` padded to the indent. */
function niceYaml(v: unknown, indent: number, col: number): string[] {
  const pad = ' '.repeat(col);
  if (isDict(v) && Object.keys(v).length > 0) {
    return Object.keys(v)
      .sort()
      .flatMap((k) => {
        const child = v[k];
        const key = `${pad}${yamlScalar(k)}:`;
        if (isDict(child) && Object.keys(child).length > 0) return [key, ...niceYaml(child, indent, col + indent)];
        if (Array.isArray(child) && child.length > 0) return [key, ...niceYaml(child, indent, col)];
        return [`${key} ${yamlScalar(child)}`];
      });
  }
  if (Array.isArray(v) && v.length > 0) {
    return v.flatMap((item) => {
      if ((isDict(item) && Object.keys(item).length > 0) || (Array.isArray(item) && item.length > 0)) {
        const lines = niceYaml(item, indent, col + indent);
        const first = (lines[0] as string).slice(col + indent);
        return [`${pad}-${' '.repeat(indent - 1)}${first}`, ...lines.slice(1)];
      }
      return [`${pad}- ${yamlScalar(item)}`];
    });
  }
  return [pad + yamlScalar(v)];
}

/** PyYAML's dump as Ansible calls it: keys sorted; flow style only for collections of scalars (to_yaml). */
function toYaml(v: unknown, indent: number, nice: boolean): string {
  const data = plain(v);
  if (nice) return niceYaml(data, indent, 0).join('\n') + '\n';
  const doc = new Document(data, { sortMapEntries: true });
  visit(doc, {
    Map(_k, node) {
      node.flow = node.items.every((p) => isScalar(p.value));
    },
    Seq(_k, node) {
      node.flow = node.items.every((i) => isScalar(i));
    },
    Scalar(_k, node) {
      if (typeof node.value === 'string' && YAML11_BOOL.test(node.value)) node.type = 'QUOTE_SINGLE';
    },
  });
  return doc.toString({ ...YAML11, indent, indentSeq: false });
}

function regexFlags(kwargs: Record<string, unknown>): string {
  return (truthy(kwargs.ignorecase ?? false) ? '(?i)' : '') + (truthy(kwargs.multiline ?? false) ? '(?m)' : '');
}

function matchesOf(pattern: string, text: string, limit?: number) {
  try {
    return linearMatches(pattern, text, limit);
  } catch (err) {
    if (err instanceof LinearRegexError) {
      throw new TemplateError('runtime', `invalid regular expression (RE2 syntax: no backreferences or lookaround): ${err.message}`);
    }
    throw err;
  }
}

/** Python's re.sub replacement syntax: `\1`, `\g<1>`, `\g<name>`, `\n`. */
function expandReplacement(rep: string, m: { groups: (string | null)[]; named: Record<string, string | null> }): string {
  return rep.replace(/\\(?:g<(\w+)>|(\d{1,2})|(.))/g, (_all, g: string | undefined, d: string | undefined, c: string | undefined) => {
    if (g !== undefined) return (/^\d+$/.test(g) ? m.groups[Number(g)] : m.named[g]) ?? '';
    if (d !== undefined) return m.groups[Number(d)] ?? '';
    return c === 'n' ? '\n' : c === 't' ? '\t' : c === '\\' ? '\\' : `\\${c}`;
  });
}

const regexReplace: FilterFn = (_r, value, args, kwargs) => {
  const text = toStr(value);
  const pattern = regexFlags(kwargs) + toStr(args[0] ?? kwargs.pattern ?? '');
  const rep = toStr(args[1] ?? kwargs.replacement ?? '');
  const count = num(args[4] ?? kwargs.count ?? 0);
  let out = '';
  let last = 0;
  for (const m of matchesOf(pattern, text, count > 0 ? count : undefined)) {
    out += text.slice(last, m.start) + expandReplacement(rep, m);
    last = m.end;
  }
  return out + text.slice(last);
};

const regexSearch: FilterFn = (_r, value, args, kwargs) => {
  const text = toStr(value);
  const m = matchesOf(regexFlags(kwargs) + toStr(args[0]), text, 1)[0];
  const wanted = args.slice(1).map(toStr);
  if (!m) return wanted.length > 0 ? null : null;
  if (wanted.length === 0) return m.groups[0];
  return wanted.map((w) => {
    const g = /^\\(\d+)$/.exec(w) ?? /^\\g<(\w+)>$/.exec(w);
    if (!g) throw new TemplateError('runtime', `Unknown argument: ${w}`);
    const key = g[1] as string;
    return /^\d+$/.test(key) ? (m.groups[Number(key)] ?? null) : (m.named[key] ?? null);
  });
};

const regexFindall: FilterFn = (_r, value, args, kwargs) =>
  matchesOf(regexFlags(kwargs) + toStr(args[0]), toStr(value)).map((m) =>
    m.groups.length === 1 ? m.groups[0] : m.groups.length === 2 ? m.groups[1] : tuple(m.groups.slice(1)),
  );

const HASHES = new Set(['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512']);

export const networkFilters: Record<string, FilterFn> = {
  ipaddr: ipFilter(null),
  ipv4: ipFilter(4),
  ipv6: ipFilter(6),
  ipwrap: (r, v, a) => ipFilter(null, 'wrap')(r, v, a, newDict()),
  ipmath,
  nthhost,
  to_json: (_r, v, a, k) => pyJsonDumps(v, k.indent === undefined || k.indent === null ? null : num(k.indent), truthy(k.sort_keys ?? false)),
  to_nice_json: (_r, v, a, k) => pyJsonDumps(v, num(k.indent ?? 4), truthy(k.sort_keys ?? true)),
  to_yaml: (_r, v, a, k) => toYaml(v, num(k.indent ?? 2), false),
  to_nice_yaml: (_r, v, a, k) => toYaml(v, num(k.indent ?? 4), true),
  from_json: (_r, v) => {
    try {
      return JSON.parse(toStr(v), (key, val: unknown) => (key === '__proto__' ? undefined : val)) as unknown;
    } catch (err) {
      throw new TemplateError('runtime', `from_json: ${(err as Error).message}`);
    }
  },
  regex_replace: regexReplace,
  regex_search: regexSearch,
  regex_findall: regexFindall,
  regex_escape: (_r, v) => toStr(v).replace(/[.*+?^${}()|[\]\\\-/ #&~]/g, '\\$&'),
  hash: (_r, v, a) => {
    const algo = toStr(a[0] ?? 'sha1');
    if (!HASHES.has(algo)) throw new TemplateError('runtime', `hash: unsupported algorithm '${algo}'`);
    return createHash(algo).update(toStr(v), 'utf8').digest('hex');
  },
  checksum: (_r, v) => createHash('sha1').update(toStr(v), 'utf8').digest('hex'),
  b64encode: (_r, v) => Buffer.from(toStr(v), 'utf8').toString('base64'),
  b64decode: (_r, v) => Buffer.from(toStr(v), 'base64').toString('utf8'),
  bool: (_r, v) =>
    typeof v === 'boolean'
      ? v
      : isString(v)
        ? ['yes', 'on', '1', 'true', 't', 'y'].includes(String(v).toLowerCase().trim())
        : isNumber(v)
          ? num(v) === 1
          : false,
  ternary: (_r, v, a) => (truthy(v) ? a[0] : v === null && a.length > 2 ? a[2] : a[1]),
  combine: (_r, v, a, k) => {
    const recursive = truthy(k.recursive ?? false);
    const merge = (x: Record<string, unknown>, y: Record<string, unknown>): Record<string, unknown> => {
      const out = newDict();
      for (const key of Object.keys(x)) setKey(out, key, x[key]);
      for (const key of Object.keys(y)) {
        setKey(out, key, recursive && isDict(out[key]) && isDict(y[key]) && hasKey(out, key) ? merge(out[key] as Record<string, unknown>, y[key]) : y[key]);
      }
      return out;
    };
    return [v, ...a].filter(isDict).reduce<Record<string, unknown>>((acc, d) => merge(acc, d), newDict());
  },
  dict2items: (_r, v) =>
    isDict(v)
      ? Object.keys(v).map((key) => {
          const d = newDict();
          d.key = key;
          d.value = v[key];
          return d;
        })
      : [],
  items2dict: (_r, v) => {
    const d = newDict();
    for (const it of toList(v)) if (isDict(it) && hasKey(it, 'key')) setKey(d, toStr(it.key), it.value);
    return d;
  },
  flatten: (_r, v, a) => {
    const depth = a[0] === undefined || a[0] === null ? Infinity : num(a[0]);
    const flat = (l: unknown[], d: number): unknown[] => l.flatMap((x) => (Array.isArray(x) && d > 0 ? flat(x, d - 1) : x === null ? [] : [x]));
    return flat(toList(v), depth);
  },
  mandatory: (_r, v, a) => {
    if (v instanceof Undefined) throw new TemplateError('undefined', a[0] !== undefined ? toStr(a[0]) : `Mandatory variable ${v.name ?? ''} not defined.`);
    return v;
  },
};

function ipTest(pred: (v: Ip) => boolean): TestFn {
  return (_r, value) => {
    const v = parseIp(value);
    return v !== null && pred(v);
  };
}

export const networkTests: Record<string, TestFn> = {
  ip_address: ipTest((v) => !v.network),
  ipv4_address: ipTest((v) => v.version === 4 && !v.network),
  ipv6_address: ipTest((v) => v.version === 6 && !v.network),
  ipv4: ipTest((v) => v.version === 4),
  ipv6: ipTest((v) => v.version === 6),
  in_network: (_r, value, args) => {
    const a = parseIp(value);
    const n = parseIp(args[0]);
    if (!a || !n || a.version !== n.version) return false;
    return networkOf(a) >= networkOf(n) && broadcastOf(a) <= broadcastOf(n);
  },
  private: ipTest(isPrivate),
  public: ipTest((v) => !isPrivate(v)),
  match: (_r, value, args) => matchesOf('^(?:' + toStr(args[0]) + ')', toStr(value), 1).length > 0,
  search: (_r, value, args) => matchesOf(toStr(args[0]), toStr(value), 1).length > 0,
};
