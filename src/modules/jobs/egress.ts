import dns from 'node:dns/promises';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The outbound-HTTP policy: cloud metadata endpoints are always blocked; then the configured
 * deny list; then, if an allow list is set, only what it names. Entries are CIDRs
 * (`10.0.0.0/8`), addresses, host names or `*.domain` wildcards. The check resolves the name
 * and returns the address to connect to, so a DNS answer cannot change between check and use.
 */
export interface EgressPolicy {
  /** `retryable` on a refusal: only a resolver that did not answer may pass later (a policy or an NXDOMAIN will not). */
  check(host: string): Promise<{ ok: true; address: string; family: 4 | 6 } | { ok: false; reason: string; retryable?: boolean }>;
}

// NOTE: link-local ranges host the AWS/GCP/Azure/OpenStack metadata services; the others are
// Alibaba (100.100.100.200) and Oracle (192.0.0.192) metadata, and AWS's IPv6 endpoint.
export const ALWAYS_BLOCKED = ['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128', '100.100.100.200/32', '192.0.0.192/32'];
const BLOCKED_NAMES = ['metadata.google.internal', 'metadata', 'metadata.azure.internal'];

type Rule = { kind: 'cidr'; range: [ipaddr.IPv4 | ipaddr.IPv6, number] } | { kind: 'name'; name: string } | { kind: 'suffix'; suffix: string };

function parseRule(entry: string): Rule {
  const e = entry.trim().toLowerCase();
  if (e.startsWith('*.')) return { kind: 'suffix', suffix: e.slice(1) };
  if (e.includes('/')) return { kind: 'cidr', range: ipaddr.parseCIDR(e) };
  if (ipaddr.isValid(e)) {
    const a = ipaddr.parse(e);
    return { kind: 'cidr', range: [a, a.kind() === 'ipv4' ? 32 : 128] };
  }
  return { kind: 'name', name: e };
}

/** Throws on a malformed entry, so configuration errors surface at start. */
export function validateEgressEntry(entry: string): boolean {
  try {
    parseRule(entry);
    return true;
  } catch {
    return false;
  }
}

function matches(rule: Rule, host: string, addr: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  if (rule.kind === 'name') return host === rule.name;
  if (rule.kind === 'suffix') return host.endsWith(rule.suffix);
  const [range] = rule.range;
  return addr.kind() === range.kind() && addr.match(rule.range as never);
}

/** Loopback and unspecified addresses: refused where `restricted` is on, unless `exceptions` name them. */
export const LOCAL_ADDRESSES = ['127.0.0.0/8', '::1/128', '0.0.0.0/8', '::/128'];

export interface EgressOptions {
  allow: readonly string[];
  deny: readonly string[];
  /** Refused unless also matched by `exceptions` (webhooks: LOCAL_ADDRESSES). */
  restricted?: readonly string[];
  exceptions?: readonly string[];
  resolve?: (host: string) => Promise<string[]>;
}

export function createEgressPolicy(options: EgressOptions): EgressPolicy {
  const blocked = ALWAYS_BLOCKED.map(parseRule);
  const restricted = (options.restricted ?? []).map(parseRule);
  const exceptions = (options.exceptions ?? []).map(parseRule);
  const deny = options.deny.map(parseRule);
  const allow = options.allow.map(parseRule);
  const resolve = options.resolve ?? (async (host: string) => (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address));
  return {
    async check(rawHost) {
      const host = rawHost.replace(/^\[|\]$/g, '').toLowerCase();
      if (BLOCKED_NAMES.includes(host)) return { ok: false, reason: `${host} is a cloud metadata endpoint` };
      let addresses: string[];
      try {
        addresses = net.isIP(host) ? [host] : await resolve(host);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        return { ok: false, reason: `cannot resolve ${host}${typeof code === 'string' ? ` (${code})` : ''}`, retryable: code !== 'ENOTFOUND' };
      }
      if (addresses.length === 0) return { ok: false, reason: `cannot resolve ${host}` };
      // Every address must pass: a name resolving to one good and one metadata address is refused.
      for (const a of addresses) {
        const addr = ipaddr.process(a);
        if (blocked.some((r) => matches(r, host, addr))) return { ok: false, reason: `${a} is a blocked (cloud metadata / link-local) address` };
        if (restricted.some((r) => matches(r, host, addr)) && !exceptions.some((r) => matches(r, host, addr))) {
          return { ok: false, reason: `${a} is a loopback or unspecified address, refused unless allow-listed` };
        }
        if (deny.some((r) => matches(r, host, addr))) return { ok: false, reason: `${host} (${a}) is denied by the egress policy` };
        if (allow.length > 0 && !allow.some((r) => matches(r, host, addr))) return { ok: false, reason: `${host} (${a}) is not in the egress allow-list` };
      }
      const first = ipaddr.process(addresses[0]!);
      return { ok: true, address: first.toString(), family: first.kind() === 'ipv4' ? 4 : 6 };
    },
  };
}
