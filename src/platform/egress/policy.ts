import dns from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';
import ipaddr from 'ipaddr.js';

/**
 * The outbound-HTTP policy (jobs' `http_request`, webhooks, later alert channels). It decides
 * on every address a URL's host resolves to, after normalising it (IPv4-mapped, -compatible and
 * NAT64 IPv6 forms are judged by the IPv4 address they carry too), and on the port: the caller
 * then connects to exactly those addresses (`request.ts`), so a second DNS answer cannot move it.
 * Order, first match wins, for each address:
 *   1. cloud metadata, unspecified (0.0.0.0/8, ::), broadcast and multicast: always refused;
 *   2. Opsdeck's own listeners (its ports on a loopback, unspecified or interface address): always refused;
 *   3. `deny` (OPSDECK_EGRESS_DENY) refuses;
 *   4. loopback and link-local (and private ranges when `privateRanges: 'deny'`): refused unless
 *      `allowInternal` (OPSDECK_EGRESS_ALLOW_INTERNAL) lists them;
 *   5. a non-empty `allow` (OPSDECK_EGRESS_ALLOW) refuses what it does not list.
 * Every address must pass: a name answering one good and one refused address is refused.
 */
export interface EgressPolicy {
  /** Run time: resolves the URL's host and answers the addresses to connect to, or why not. */
  check(url: URL): Promise<EgressVerdict>;
  /** Save time, without DNS: the reason an IP-literal host (or a denied name) is refused, else null. */
  checkLiteral(url: URL): string | null;
  /** The ports Opsdeck itself listens on (refused on every local address). */
  readonly listeners: OwnListeners;
  /**
   * The addresses a name resolves to through the policy's resolver (an IP literal answers
   * itself), for executors that hand an address to a child process (`ping`): every name a job
   * uses is resolved in one place, which tests replace so no test asks the machine's DNS.
   */
  lookup(host: string): Promise<string[]>;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** `retryable` on a refusal: only a resolver that did not answer may pass later (a policy or an NXDOMAIN will not). */
export type EgressVerdict = { ok: true; addresses: ResolvedAddress[] } | { ok: false; reason: string; retryable?: boolean };

/** A name → its addresses (tests inject one; the default asks the system resolver). */
export type Resolver = (host: string) => Promise<string[]>;

export interface EgressOptions {
  allow: readonly string[];
  deny: readonly string[];
  /** Loopback / link-local (/ private) addresses or CIDRs allowed anyway, e.g. `127.0.0.1/32` in a lab. */
  allowInternal: readonly string[];
  /** Private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) are device networks: allowed unless `deny`. */
  privateRanges: 'allow' | 'deny';
  listeners: OwnListeners;
  resolve?: Resolver;
}

// NOTE: the link-local ranges (refused by default anyway) host the AWS/GCP/Azure/OpenStack
// metadata services; these exact addresses stay refused even where link-local is allowed. The
// others are AWS ECS task metadata, Alibaba (100.100.100.200), Oracle (192.0.0.192) and AWS's IPv6 endpoint.
export const METADATA_ADDRESSES = ['169.254.169.254/32', '169.254.170.2/32', 'fd00:ec2::254/128', '100.100.100.200/32', '192.0.0.192/32'];
const METADATA_NAMES = ['metadata.google.internal', 'metadata', 'metadata.azure.internal'];
const ALWAYS_REFUSED_RANGES = ['unspecified', 'broadcast', 'multicast'];
const INTERNAL_RANGES = ['loopback', 'linkLocal'];
const PRIVATE_RANGES = ['private', 'carrierGradeNat', 'uniqueLocal'];

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Rule = { kind: 'cidr'; range: [Address, number] } | { kind: 'name'; name: string } | { kind: 'suffix'; suffix: string };

function parseRule(entry: string, namesAllowed = true): Rule {
  const e = entry.trim().toLowerCase();
  if (e.includes('/')) return { kind: 'cidr', range: ipaddr.parseCIDR(e) };
  if (ipaddr.isValid(e)) {
    const a = ipaddr.parse(e);
    return { kind: 'cidr', range: [a, a.kind() === 'ipv4' ? 32 : 128] };
  }
  if (!namesAllowed) throw new Error(`${entry} is not an address or CIDR`);
  if (e.startsWith('*.') && e.length > 2) return { kind: 'suffix', suffix: e.slice(1) };
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(e)) throw new Error(`${entry} is not an address, CIDR, host name or *.domain`);
  return { kind: 'name', name: e };
}

/** For configuration: whether an entry parses (`addressesOnly`: CIDRs and addresses, no names). */
export function validEgressEntry(entry: string, addressesOnly = false): boolean {
  try {
    parseRule(entry, !addressesOnly);
    return true;
  } catch {
    return false;
  }
}

function matchesName(rule: Rule, host: string): boolean {
  return (rule.kind === 'name' && host === rule.name) || (rule.kind === 'suffix' && host.endsWith(rule.suffix));
}

function matches(rule: Rule, host: string, addr: Address): boolean {
  if (rule.kind !== 'cidr') return matchesName(rule, host);
  const [range] = rule.range;
  return addr.kind() === range.kind() && addr.match(rule.range as never);
}

/** The address and every IPv4 address it carries (mapped, compatible ::a.b.c.d, translated, NAT64 64:ff9b::/96). */
export function addressForms(text: string): Address[] {
  const addr = ipaddr.process(text);
  if (addr.kind() === 'ipv4') return [addr];
  const v6 = addr as ipaddr.IPv6;
  const bytes = v6.toByteArray();
  const embedded = new ipaddr.IPv4(bytes.slice(12));
  const compatible = bytes.slice(0, 12).every((b) => b === 0) && v6.range() !== 'unspecified' && v6.range() !== 'loopback';
  const translated = ['rfc6052', 'rfc6145'].includes(v6.range()) || v6.match(ipaddr.parseCIDR('64:ff9b:1::/48'));
  return compatible || translated ? [v6, embedded] : [v6];
}

/** The ports this process (and the API, by configuration) listens on; `add` after a `listen` on port 0. */
export interface OwnListeners {
  add(port: number): void;
  has(port: number): boolean;
}

export function createOwnListeners(ports: Iterable<number>): OwnListeners {
  const set = new Set<number>();
  const add = (port: number) => {
    if (Number.isInteger(port) && port > 0) set.add(port);
  };
  for (const p of ports) add(p);
  return { add, has: (port) => set.has(port) };
}

/** Whether a connection to this address reaches this machine: loopback, unspecified or an interface address. */
function isThisMachine(addr: Address): boolean {
  const range = addr.range();
  if (range === 'loopback' || range === 'unspecified') return true;
  const text = addr.toNormalizedString();
  return Object.values(os.networkInterfaces()).some((list) =>
    list?.some((i) => ipaddr.isValid(i.address) && ipaddr.process(i.address).toNormalizedString() === text),
  );
}

export function createEgressPolicy(options: EgressOptions): EgressPolicy {
  const metadata = METADATA_ADDRESSES.map((e) => parseRule(e));
  const deny = options.deny.map((e) => parseRule(e));
  const allow = options.allow.map((e) => parseRule(e));
  const allowInternal = options.allowInternal.map((e) => parseRule(e, false));
  const internal = options.privateRanges === 'deny' ? [...INTERNAL_RANGES, ...PRIVATE_RANGES] : INTERNAL_RANGES;
  const resolve = options.resolve ?? (async (host: string) => (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address));

  // `bad.example.` is `bad.example`: name rules must not be sidestepped by the root label.
  const hostOf = (url: URL) =>
    url.hostname
      .replace(/^\[|\]$/g, '')
      .replace(/\.$/, '')
      .toLowerCase();
  const portOf = (url: URL) => Number(url.port || (url.protocol === 'https:' ? 443 : 80));

  /** Refusals decided on the name alone (no DNS). */
  function byName(host: string): string | null {
    if (METADATA_NAMES.includes(host)) return `${host} is a cloud metadata endpoint`;
    if (deny.some((r) => matchesName(r, host))) return `${host} is denied by OPSDECK_EGRESS_DENY`;
    return null;
  }

  function byAddress(host: string, text: string, port: number): string | null {
    const forms = addressForms(text);
    for (const addr of forms) {
      const shown = addr.toString();
      if (metadata.some((r) => matches(r, host, addr))) return `${shown} is a cloud metadata address`;
      if (ALWAYS_REFUSED_RANGES.includes(addr.range())) return `${shown} is an ${addr.range()} address, never a target`;
      if (options.listeners.has(port) && isThisMachine(addr)) return `${shown} port ${port} is Opsdeck's own listener`;
      if (deny.some((r) => matches(r, host, addr))) return `${shown} is denied by OPSDECK_EGRESS_DENY`;
      if (internal.includes(addr.range()) && !allowInternal.some((r) => matches(r, host, addr))) {
        return `${shown} is a ${addr.range()} address, refused unless OPSDECK_EGRESS_ALLOW_INTERNAL lists it`;
      }
    }
    if (allow.length > 0 && !allow.some((r) => matches(r, host, forms[0]!))) return `${host} (${forms[0]!.toString()}) is not in OPSDECK_EGRESS_ALLOW`;
    return null;
  }

  return {
    listeners: options.listeners,
    lookup: (host) => (net.isIP(host) ? Promise.resolve([host]) : resolve(host)),
    checkLiteral(url) {
      const host = hostOf(url);
      return net.isIP(host) ? byAddress(host, host, portOf(url)) : byName(host);
    },
    async check(url) {
      const host = hostOf(url);
      const port = portOf(url);
      const named = net.isIP(host) ? null : byName(host);
      if (named) return { ok: false, reason: named };
      let answers: string[];
      try {
        answers = net.isIP(host) ? [host] : await resolve(host);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        return { ok: false, reason: `cannot resolve ${host}${typeof code === 'string' ? ` (${code})` : ''}`, retryable: code !== 'ENOTFOUND' };
      }
      const valid = answers.filter((a) => ipaddr.isValid(a));
      if (valid.length === 0 || valid.length !== answers.length) return { ok: false, reason: `cannot resolve ${host}` };
      for (const a of valid) {
        const reason = byAddress(host, a, port);
        if (reason) return { ok: false, reason };
      }
      // Connect to the normalised form (an IPv4-mapped answer becomes the IPv4 address it names).
      const addresses = valid.map((a) => ipaddr.process(a)).map((a) => ({ address: a.toString(), family: a.kind() === 'ipv4' ? (4 as const) : (6 as const) }));
      return { ok: true, addresses };
    },
  };
}
