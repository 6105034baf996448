import type { ResolvedCredential } from './credentials.ports.js';
// The jobs engine owns the shape its executors take (its port); the vault adapts to it.
import type { ResolvedCredential as ExecutorCredential } from '../jobs/index.js';

export type { ExecutorCredential };

type SnmpV3 = NonNullable<ExecutorCredential['snmpV3']>;
const PRIV = { des: 'des', aes128: 'aes', aes256: 'aes256b' } as const;

/**
 * Builds the flat shape the jobs engine's executors take (modules/jobs/credentials.ts) from a
 * resolved credential. SNMP names are net-snmp's; AES-192 has no net-snmp implementation, so
 * such a credential resolves without a privacy protocol and the agent refuses it.
 */
export function toExecutorCredential(c: ResolvedCredential): ExecutorCredential {
  const a = c.attributes;
  const s = c.secrets;
  const out: ExecutorCredential = { id: c.id };
  if (a.username !== undefined && c.type !== 'snmp_v3') out.username = a.username;
  if (s.password !== undefined) out.password = s.password;
  if (s.private_key !== undefined) out.privateKey = s.private_key;
  if (s.passphrase !== undefined) out.passphrase = s.passphrase;
  if (s.enable_secret !== undefined) out.enablePassword = s.enable_secret;
  if (s.community !== undefined) out.community = s.community;
  if (s.token !== undefined) out.token = s.token;
  if (a.header_name !== undefined) out.headerName = a.header_name;
  if (c.type === 'snmp_v3') {
    const priv: SnmpV3['privProtocol'] = PRIV[a.priv_protocol as keyof typeof PRIV];
    out.snmpV3 = {
      user: a.username ?? '',
      level: (a.security_level ?? 'noAuthNoPriv') as SnmpV3['level'],
      ...(a.auth_protocol ? { authProtocol: a.auth_protocol as SnmpV3['authProtocol'] } : {}),
      ...(s.auth_key !== undefined ? { authKey: s.auth_key } : {}),
      ...(priv ? { privProtocol: priv } : {}),
      ...(s.priv_key !== undefined ? { privKey: s.priv_key } : {}),
    };
  }
  return out;
}
