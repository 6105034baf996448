import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Client, type ConnectConfig } from 'ssh2';
import type { ResolvedCredential } from './credentials.ports.js';
import type { TestResult } from './credentials.schemas.js';

/**
 * `POST /credentials/{id}/test`: an SSH login or an SNMP get of sysName.0 with a plaintext
 * credential. Results carry our own fixed messages, never the library's: net-snmp's digest
 * errors include values derived from the key.
 */
type Outcome = TestResult['outcome'];

interface SnmpSession {
  get(oids: string[], cb: (err: Error | null, varbinds?: { oid: string; type: number; value: unknown }[]) => void): void;
  close(): void;
  on(event: 'error', cb: (err: Error) => void): void;
}
interface NetSnmp {
  createSession(target: string, community: string, options: object): SnmpSession;
  createV3Session(target: string, user: object, options: object): SnmpSession;
  isVarbindError(vb: unknown): boolean;
  Version2c: number;
  SecurityLevel: Record<string, number>;
  AuthProtocols: Record<string, number>;
  PrivProtocols: Record<string, number>;
  ResponseInvalidCode: Record<string, number>;
}
// NOTE: net-snmp ships no types; this narrow interface covers the calls made here.
const snmp = createRequire(import.meta.url)('net-snmp') as NetSnmp;

const SYS_NAME = '1.3.6.1.2.1.1.5.0';
/** Our names → net-snmp's; AES-192 has no implementation in net-snmp. */
const PRIV: Record<string, string | undefined> = { des: 'des', aes128: 'aes', aes256: 'aes256b' };

export interface ProbeTarget {
  host: string;
  port?: number;
  timeoutMs: number;
  /** SSH host key trust on first use (the jobs module's pins, wired in modules.ts): null trusts, a string refuses. */
  hostKeyCheck?: HostKeyCheck;
}

export type HostKeyCheck = (target: { host: string; port: number }, fingerprint: string) => Promise<string | null>;

type Probe = Omit<TestResult, 'duration_ms' | 'host'>;

function sshLogin(credential: ResolvedCredential, target: ProbeTarget): Promise<Probe> {
  const port = target.port ?? 22;
  const { secrets, attributes } = credential;
  return new Promise((resolve) => {
    const client = new Client();
    let refused: string | null = null;
    const done = (outcome: Outcome, message: string) => {
      client.end();
      resolve({ ok: outcome === 'success', protocol: 'ssh', port, outcome, message });
    };
    const config: ConnectConfig = {
      host: target.host,
      port,
      username: attributes.username ?? '',
      readyTimeout: target.timeoutMs,
      ...(secrets.password !== undefined ? { password: secrets.password } : {}),
      ...(secrets.private_key !== undefined ? { privateKey: secrets.private_key } : {}),
      ...(secrets.passphrase !== undefined ? { passphrase: secrets.passphrase } : {}),
      // Many network devices only offer keyboard-interactive for passwords.
      tryKeyboard: secrets.password !== undefined,
      // Checked before any credential is sent: a changed host key gets no password.
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        if (!target.hostKeyCheck) return verify(true);
        const fingerprint = createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
        target.hostKeyCheck({ host: target.host, port }, fingerprint).then(
          (reason) => {
            refused = reason;
            verify(reason === null);
          },
          () => {
            refused = 'The SSH host key could not be checked';
            verify(false);
          },
        );
      },
    };
    client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => secrets.password ?? '')));
    client.on('ready', () => done('success', 'SSH login succeeded'));
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (refused !== null) done('error', refused);
      else if (err.level === 'client-authentication') done('auth_failed', 'SSH authentication failed: the server rejected the credential');
      else if (err.level === 'client-timeout' || /timed out/i.test(err.message)) done('timeout', `No SSH handshake within ${target.timeoutMs} ms`);
      else if (err.code === 'ECONNREFUSED' || err.code === 'EHOSTUNREACH' || err.code === 'ENOTFOUND' || err.code === 'ENETUNREACH') {
        done('unreachable', `Cannot connect to ${target.host}:${port} (${err.code})`);
      } else if (/parse privateKey|passphrase/i.test(err.message)) done('error', 'The private key cannot be used (wrong passphrase or unsupported format)');
      else done('error', 'SSH connection failed');
    });
    try {
      client.connect(config);
    } catch {
      done('error', 'The private key cannot be used (wrong passphrase or unsupported format)');
    }
  });
}

function snmpSession(credential: ResolvedCredential, target: string, options: object): SnmpSession | string {
  if (credential.type === 'snmp_v2c') return snmp.createSession(target, credential.secrets.community ?? '', { ...options, version: snmp.Version2c });
  const a = credential.attributes;
  const level = a.security_level ?? 'noAuthNoPriv';
  const user: Record<string, unknown> = { name: a.username, level: snmp.SecurityLevel[level] };
  if (level !== 'noAuthNoPriv') Object.assign(user, { authProtocol: snmp.AuthProtocols[a.auth_protocol ?? ''], authKey: credential.secrets.auth_key });
  if (level === 'authPriv') {
    const priv = PRIV[a.priv_protocol ?? ''];
    if (!priv) return `SNMPv3 privacy protocol ${a.priv_protocol ?? '(none)'} cannot be tested here`;
    Object.assign(user, { privProtocol: snmp.PrivProtocols[priv], privKey: credential.secrets.priv_key });
  }
  return snmp.createV3Session(target, user, options);
}

function snmpGet(credential: ResolvedCredential, target: ProbeTarget): Promise<Probe> {
  const port = target.port ?? 161;
  const base = { ok: false, protocol: 'snmp' as const, port };
  return new Promise((resolve) => {
    const session = snmpSession(credential, target.host, {
      port,
      timeout: target.timeoutMs,
      retries: 0,
      transport: target.host.includes(':') ? 'udp6' : 'udp4',
    });
    if (typeof session === 'string') return resolve({ ...base, outcome: 'error', message: session });
    let settled = false;
    const done = (r: Probe) => {
      if (settled) return;
      settled = true;
      session.close();
      resolve(r);
    };
    session.on('error', () => done({ ...base, outcome: 'error', message: 'SNMP socket error' }));
    session.get([SYS_NAME], (err, varbinds) => {
      if (err) {
        const e = err as Error & { code?: number };
        if (e.name === 'RequestTimedOutError') {
          const hint = credential.type === 'snmp_v2c' ? ' (a wrong community gets no answer at all)' : '';
          return done({ ...base, outcome: 'timeout', message: `No SNMP answer within ${target.timeoutMs} ms${hint}` });
        }
        if (e.code === snmp.ResponseInvalidCode.EAuthFailure || /Unknown User|Wrong Digest|Decryption/i.test(e.message)) {
          return done({ ...base, outcome: 'auth_failed', message: 'SNMPv3 authentication failed: unknown user, wrong key or wrong protocol' });
        }
        return done({ ...base, outcome: 'error', message: 'SNMP request failed' });
      }
      const vb = varbinds?.[0];
      if (!vb || snmp.isVarbindError(vb)) return done({ ...base, outcome: 'error', message: 'The agent answered but has no sysName.0' });
      const sysName = Buffer.isBuffer(vb.value) ? vb.value.toString('utf8') : String(vb.value);
      done({ ...base, ok: true, outcome: 'success', message: 'SNMP get of sysName.0 succeeded', sys_name: sysName.slice(0, 255) });
    });
  });
}

/** Runs the test that fits the credential's type; null when the type has no test. */
export async function probeCredential(credential: ResolvedCredential, target: ProbeTarget): Promise<TestResult | null> {
  const started = performance.now();
  const run = credential.type === 'ssh' ? sshLogin : credential.type === 'snmp_v2c' || credential.type === 'snmp_v3' ? snmpGet : null;
  if (!run) return null;
  const r = await run(credential, target);
  return { ...r, host: target.host, duration_ms: Math.round(performance.now() - started) };
}
