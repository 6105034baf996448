import ipaddr from 'ipaddr.js';

/** IP and MAC address validation and normalisation: pure, table-tested. */

export interface Host {
  host: string;
  family: 4 | 6;
}
export interface Cidr extends Host {
  /** `host/prefix`, normalised */
  address: string;
  prefixLength: number;
}

function parseHost(text: string): Host | null {
  const s = text.trim();
  if (s.includes('%')) return null; // zone ids belong to a host's interface, not its inventory record
  if (ipaddr.IPv4.isValidFourPartDecimal(s)) return { host: ipaddr.IPv4.parse(s).toString(), family: 4 };
  if (s.includes(':') && ipaddr.IPv6.isValid(s)) return { host: ipaddr.IPv6.parse(s).toString(), family: 6 };
  return null;
}

/** A host address, with an optional prefix length that is validated and dropped. */
export function normaliseHost(text: string, family?: 4 | 6): Host | string {
  const [addr, prefix, extra] = text.split('/');
  const h = extra === undefined ? parseHost(addr ?? '') : null;
  if (!h) return `'${text.slice(0, 60)}' is not a valid IP${family ? `v${family}` : ''} address`;
  if (family && h.family !== family) return `'${text.slice(0, 60)}' is not an IPv${family} address`;
  if (prefix !== undefined && !validPrefix(prefix, h.family)) return `'${prefix.slice(0, 10)}' is not a valid prefix length`;
  return h;
}

function validPrefix(p: string, family: 4 | 6): boolean {
  return /^\d{1,3}$/.test(p) && Number(p) <= (family === 4 ? 32 : 128);
}

/** An interface address `host/prefix`; without a prefix it is a host route (/32, /128). */
export function normaliseCidr(text: string): Cidr | string {
  const [addr, prefix, extra] = text.split('/');
  const h = extra === undefined ? parseHost(addr ?? '') : null;
  if (!h) return `'${text.slice(0, 60)}' is not a valid IP address`;
  const max = h.family === 4 ? 32 : 128;
  if (prefix !== undefined && !validPrefix(prefix, h.family)) return `'${prefix.slice(0, 10)}' is not a valid prefix length (0-${max})`;
  const prefixLength = prefix === undefined ? max : Number(prefix);
  return { ...h, prefixLength, address: `${h.host}/${prefixLength}` };
}

/** MAC in any common notation → `aa:bb:cc:dd:ee:ff`. */
export function normaliseMac(text: string): string | null {
  const hex = text
    .trim()
    .toLowerCase()
    .replace(/[-:.\s]/g, '');
  if (!/^[0-9a-f]{12}$/.test(hex)) return null;
  if (!/^([0-9a-f]{2}([-:]?)){5}[0-9a-f]{2}$/i.test(text.trim()) && !/^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i.test(text.trim())) return null;
  return hex.match(/../g)!.join(':');
}
