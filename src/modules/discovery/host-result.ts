import { Type, type Static } from 'typebox';

/** What a scan learnt about one address: the `discovery` executor's parsed output per target. */

const S = (max = 255) => Type.String({ maxLength: max });
const NullS = (max = 255) => Type.Union([S(max), Type.Null()]);
export const Neighbour = Type.Object(
  { protocol: Type.Union([Type.Literal('lldp'), Type.Literal('cdp')]), local_interface: S(), name: S(), port: S(), address: NullS(45) },
  { additionalProperties: false },
);
export type Neighbour = Static<typeof Neighbour>;
export const HostResult = Type.Object(
  {
    address: S(45),
    alive: Type.Boolean(),
    icmp: Type.Union([Type.Boolean(), Type.Null()], { description: 'ICMP echo answered (null: not probed)' }),
    open_ports: Type.Array(Type.Integer()),
    ssh_banner: NullS(),
    snmp: Type.Union([
      Type.Object({ sys_name: NullS(), sys_descr: NullS(2000), sys_object_id: NullS(), serial: NullS() }, { additionalProperties: false }),
      Type.Null(),
    ]),
    facts: Type.Object({ hostname: Type.Optional(S()), os_version: Type.Optional(S()), serial: Type.Optional(S()) }, { additionalProperties: false }),
    interfaces: Type.Array(Type.Object({ name: S(), address: NullS(45) }, { additionalProperties: false })),
    neighbours: Type.Array(Neighbour),
    platform: NullS(100),
    confidence: Type.Number({ minimum: 0, maximum: 1 }),
    evidence: Type.Array(Type.Object({ source: S(20), detail: S(300), platform: S(100), weight: Type.Number() }, { additionalProperties: false })),
    ssh_credential_id: NullS(36),
    snmp_credential_id: NullS(36),
    notes: Type.Array(S(300), { description: 'Why a probe gave nothing (a refused credential, no SNMP answer)' }),
  },
  { additionalProperties: false },
);
export type HostResultT = Static<typeof HostResult>;

/** What is known of an address before any probe answered (and of one whose probe failed: `error` becomes its note). */
export function emptyHostResult(address: string, error: string | null = null): HostResultT {
  return {
    address,
    alive: false,
    icmp: null,
    open_ports: [],
    ssh_banner: null,
    snmp: null,
    facts: {},
    interfaces: [],
    neighbours: [],
    platform: null,
    confidence: 0,
    evidence: [],
    ssh_credential_id: null,
    snmp_credential_id: null,
    notes: error ? [error.slice(0, 300)] : [],
  };
}

const field = (row: Record<string, unknown>, ...names: string[]) => {
  const lower = new Map(Object.entries(row).map(([k, v]) => [k.toLowerCase(), v]));
  for (const n of names) {
    const v = lower.get(n);
    const t = Array.isArray(v) ? v[0] : v;
    if (typeof t === 'string' && t.trim() !== '') return t.trim().slice(0, 255);
  }
  return null;
};
const rows = (records: unknown) => (Array.isArray(records) ? (records.filter((r) => r && typeof r === 'object') as Record<string, unknown>[]) : []);

/** `show ip interface brief` records → interfaces with their address (`unassigned` → null). */
export function interfacesOf(records: unknown): HostResultT['interfaces'] {
  return rows(records).flatMap((r) => {
    const name = field(r, 'interface', 'intf');
    if (!name) return [];
    const ip = field(r, 'ip_address', 'ipaddr');
    return [{ name, address: ip && /^[\d.]+$/.test(ip) ? ip : null }];
  });
}

/** `show lldp|cdp neighbors detail` records → neighbours (ntc-templates column names). */
export function neighboursOf(records: unknown, protocol: 'lldp' | 'cdp'): Neighbour[] {
  return rows(records).flatMap((r) => {
    const local = field(r, 'local_interface', 'local_port');
    const name = field(r, 'neighbor_name', 'neighbor', 'destination_host');
    const port = field(r, 'neighbor_port_id', 'neighbor_interface', 'remote_port');
    if (!local || !name || !port) return [];
    return [{ protocol, local_interface: local, name, port, address: field(r, 'mgmt_address', 'management_ip', 'mgmt_ip')?.slice(0, 45) ?? null }];
  });
}
