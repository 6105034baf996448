/**
 * Net-SNMP snmpd on a free loopback UDP port with a v2c community and a v3 user (SHA/AES,
 * authPriv). Reads only its own config (-C) and keeps its persistent state in the temp dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freeUdpPort } from './ports.js';

export interface SnmpdPeer {
  host: string;
  port: number;
  community: string;
  /** Two v3 users: one authPriv (SHA + AES), one authNoPriv (SHA). */
  v3: {
    authPriv: { user: string; authProtocol: 'sha'; authKey: string; privProtocol: 'aes'; privKey: string };
    authNoPriv: { user: string; authProtocol: 'sha'; authKey: string; privKey?: undefined };
  };
  sysName: string;
  stop(): Promise<void>;
}

export async function startSnmpd(): Promise<SnmpdPeer> {
  if (!fs.existsSync('/usr/sbin/snmpd')) throw new Error('snmpd not found: apt-get install snmpd snmp');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-snmpd-'));
  const port = await freeUdpPort();
  const peer = {
    host: '127.0.0.1',
    port,
    community: 'c0mmunity-test-9f2',
    v3: {
      authPriv: { user: 'opsdeckv3', authProtocol: 'sha' as const, authKey: 'v3-auth-Secret-1', privProtocol: 'aes' as const, privKey: 'v3-priv-Secret-2' },
      authNoPriv: { user: 'opsdeckv3auth', authProtocol: 'sha' as const, authKey: 'v3-authonly-Secret-3' },
    },
    sysName: 'opsdeck-snmp-lab',
  };
  const conf = [
    `agentAddress udp:127.0.0.1:${port}`,
    `rocommunity ${peer.community} 127.0.0.1`,
    `createUser ${peer.v3.authPriv.user} SHA "${peer.v3.authPriv.authKey}" AES "${peer.v3.authPriv.privKey}"`,
    `rouser ${peer.v3.authPriv.user} priv`,
    `createUser ${peer.v3.authNoPriv.user} SHA "${peer.v3.authNoPriv.authKey}"`,
    `rouser ${peer.v3.authNoPriv.user} auth`,
    `sysName ${peer.sysName}`,
    'sysLocation opsdeck test lab',
    'sysContact ops@example.com',
    'sysDescr Opsdeck test agent',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'snmpd.conf'), `${conf}\n`);
  const child: ChildProcess = spawn(
    '/usr/sbin/snmpd',
    ['-f', '-C', '-c', path.join(dir, 'snmpd.conf'), '-Lf', path.join(dir, 'snmpd.log'), '-p', path.join(dir, 'snmpd.pid'), '-M', '/dev/null'],
    {
      stdio: 'ignore',
      env: { ...process.env, SNMP_PERSISTENT_DIR: dir, MIBS: '' },
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Ready when the log says so (it binds before logging "NET-SNMP version").
  const deadline = Date.now() + 10_000;
  for (;;) {
    const log = fs.existsSync(path.join(dir, 'snmpd.log')) ? fs.readFileSync(path.join(dir, 'snmpd.log'), 'utf8') : '';
    if (/NET-SNMP version/.test(log)) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`snmpd did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    ...peer,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
