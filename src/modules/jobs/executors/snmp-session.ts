// net-snmp ships no types; this file is the only one that touches it.
// @ts-expect-error no type declarations for net-snmp
import snmp from 'net-snmp';
import { Type } from 'typebox';
import type { ResolvedCredential } from '../credentials.js';

/** The bundled MIB-name subset: scalars resolve to `.0` for get, tables/columns are walk roots. */
export const MIB_NAMES: Record<string, { oid: string; scalar: boolean }> = {
  sysDescr: { oid: '1.3.6.1.2.1.1.1', scalar: true },
  sysObjectID: { oid: '1.3.6.1.2.1.1.2', scalar: true },
  sysUpTime: { oid: '1.3.6.1.2.1.1.3', scalar: true },
  sysContact: { oid: '1.3.6.1.2.1.1.4', scalar: true },
  sysName: { oid: '1.3.6.1.2.1.1.5', scalar: true },
  sysLocation: { oid: '1.3.6.1.2.1.1.6', scalar: true },
  system: { oid: '1.3.6.1.2.1.1', scalar: false },
  ifNumber: { oid: '1.3.6.1.2.1.2.1', scalar: true },
  ifTable: { oid: '1.3.6.1.2.1.2.2', scalar: false },
  ifIndex: { oid: '1.3.6.1.2.1.2.2.1.1', scalar: false },
  ifDescr: { oid: '1.3.6.1.2.1.2.2.1.2', scalar: false },
  ifType: { oid: '1.3.6.1.2.1.2.2.1.3', scalar: false },
  ifMtu: { oid: '1.3.6.1.2.1.2.2.1.4', scalar: false },
  ifSpeed: { oid: '1.3.6.1.2.1.2.2.1.5', scalar: false },
  ifPhysAddress: { oid: '1.3.6.1.2.1.2.2.1.6', scalar: false },
  ifAdminStatus: { oid: '1.3.6.1.2.1.2.2.1.7', scalar: false },
  ifOperStatus: { oid: '1.3.6.1.2.1.2.2.1.8', scalar: false },
  ifInOctets: { oid: '1.3.6.1.2.1.2.2.1.10', scalar: false },
  ifOutOctets: { oid: '1.3.6.1.2.1.2.2.1.16', scalar: false },
  ifXTable: { oid: '1.3.6.1.2.1.31.1.1', scalar: false },
  ifName: { oid: '1.3.6.1.2.1.31.1.1.1.1', scalar: false },
  ifAlias: { oid: '1.3.6.1.2.1.31.1.1.1.18', scalar: false },
  ipAddrTable: { oid: '1.3.6.1.2.1.4.20', scalar: false },
  entPhysicalTable: { oid: '1.3.6.1.2.1.47.1.1.1', scalar: false },
};

export const OidOrName = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^([0-9]+(\\.[0-9]+)*|[A-Za-z][A-Za-z0-9]*(\\.[0-9]+)*)$',
  description: `Numeric OID or one of: ${Object.keys(MIB_NAMES).join(', ')}`,
});
export const SnmpCommon = {
  version: Type.Optional(Type.Union([Type.Literal('2c'), Type.Literal('3')], { description: '2c (community) or 3 (user); default 2c' })),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: '(161)' })),
  timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000, description: '(2000)' })),
  retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 5, description: '(1)' })),
};

/** `sysName` → `1.3.6.1.2.1.1.5.0` for a get; `ifDescr.3` keeps its index; numeric OIDs pass. */
export function resolveOid(name: string, forGet: boolean): string | null {
  if (/^[0-9.]+$/.test(name)) return name;
  const [base, ...index] = name.split('.');
  const mib = MIB_NAMES[base ?? ''];
  if (!mib) return null;
  if (index.length > 0) return `${mib.oid}.${index.join('.')}`;
  return forGet && mib.scalar ? `${mib.oid}.0` : mib.oid;
}

export function unknownNames(names: string[], forGet: boolean): string[] {
  return names.filter((n) => resolveOid(n, forGet) === null);
}

export interface Varbind {
  oid: string;
  type: string;
  value: string | number | null;
}

function formatValue(vb: { type: number; value: unknown }): string | number | null {
  const v = vb.value;
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) {
    if (vb.type === snmp.ObjectType.Counter64) return BigInt(`0x${v.toString('hex') || '0'}`).toString();
    // Printable text stays text; MAC addresses and other binaries become hex.
    // eslint-disable-next-line no-control-regex -- tab, LF and CR are printable text here
    return /^[\x09\x0a\x0d\x20-\x7e]*$/.test(v.toString('latin1')) ? v.toString('utf8') : v.toString('hex').replace(/(..)(?!$)/g, '$1:');
  }
  return typeof v === 'number' || typeof v === 'string' ? v : String(v);
}

export function toVarbind(vb: { oid: string; type: number; value: unknown }): Varbind {
  return { oid: vb.oid, type: String(snmp.ObjectType[vb.type] ?? vb.type), value: formatValue(vb) };
}

export function isVarbindError(vb: unknown): boolean {
  return snmp.isVarbindError(vb) as boolean;
}

export interface SnmpSession {
  get(oids: string[]): Promise<{ oid: string; type: number; value: unknown }[]>;
  subtree(oid: string, maxRepetitions: number, onRows: (vbs: { oid: string; type: number; value: unknown }[]) => boolean | void): Promise<void>;
  close(): void;
}

/** A v2c or v3 session from a resolved credential. */
export function openSession(
  host: string,
  p: { version?: '2c' | '3'; port?: number; timeout_ms?: number; retries?: number },
  credential: ResolvedCredential | null,
): SnmpSession {
  const options = {
    port: p.port ?? 161,
    timeout: p.timeout_ms ?? 2000,
    retries: p.retries ?? 1,
    version: p.version === '3' ? snmp.Version3 : snmp.Version2c,
    idBitsSize: 32,
  };
  let session: any;
  if (p.version === '3') {
    const v3 = credential?.snmpV3;
    if (!v3) throw new Error('SNMP v3 needs a credential with an SNMPv3 user');
    session = snmp.createV3Session(
      host,
      {
        name: v3.user,
        level: snmp.SecurityLevel[v3.level],
        ...(v3.authProtocol ? { authProtocol: snmp.AuthProtocols[v3.authProtocol], authKey: v3.authKey } : {}),
        ...(v3.privProtocol ? { privProtocol: snmp.PrivProtocols[v3.privProtocol], privKey: v3.privKey } : {}),
      },
      options,
    );
  } else {
    if (!credential?.community) throw new Error('SNMP v2c needs a credential with a community');
    session = snmp.createSession(host, credential.community, options);
  }
  session.on('error', () => undefined);
  return {
    get: (oids) => new Promise((resolve, reject) => session.get(oids, (err: Error | null, vbs: any[]) => (err ? reject(err) : resolve(vbs)))),
    subtree: (oid, maxRepetitions, onRows) =>
      new Promise((resolve, reject) =>
        session.subtree(
          oid,
          maxRepetitions,
          (vbs: any[]) => onRows(vbs),
          (err: Error | null) => (err ? reject(err) : resolve()),
        ),
      ),
    close: () => {
      try {
        session.close();
      } catch {
        // already closed
      }
    },
  };
}
