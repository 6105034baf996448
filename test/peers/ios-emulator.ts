/**
 * A network device emulator on ssh2's Server API that behaves like a Cisco IOS CLI: user and
 * privileged prompts, `enable` with a secret, paging (`--More--`) until `terminal length 0`,
 * `show version`, `show running-config`, `show ip interface brief`, `write memory`, configuration
 * mode (lines starting with an unknown keyword answer `% Invalid input detected`). One
 * emulator can listen on many loopback addresses (127.0.0.x), each a "device" with its own
 * host name, and it counts concurrent sessions per address (to check device locks). With
 * `noise`, the running configuration changes on every read the way real devices' do (timestamps,
 * NTP clock period) and holds secrets, for configuration backups.
 */
import net from 'node:net';
import ssh2, { type Connection, type ServerChannel } from 'ssh2';

const { Server, utils } = ssh2;

export interface IosEmulatorOptions {
  /** Loopback addresses to listen on, e.g. 127.0.10.1 … 127.0.10.200. */
  addresses: string[];
  port: number;
  username?: string;
  password?: string;
  enableSecret?: string;
  /** Delay before each command's output, to make runs take time. */
  commandDelayMs?: number;
  /**
   * `show running-config` as a real device prints it: a `! Last configuration change at` line and
   * an `ntp clock-period` that differ on every read, and secrets (NOISY_SECRETS) to be masked.
   */
  noise?: boolean;
  /** Per address, text before the host name in the prompt (`netops@` gives `netops@R23-5>`, like Junos). */
  promptPrefix?: Record<string, string>;
  /** A command containing this text is echoed and never answered (a hung device); empty: none. */
  hangOn?: string;
  /** The SSH software version in the server's identification string (`SSH-2.0-<ident>`), as real devices send (`Cisco-1.25`). */
  ident?: string;
  /** Per address, the LLDP neighbours `show lldp neighbors detail` lists. */
  lldp?: Record<string, LldpNeighbour[]>;
}

export interface LldpNeighbour {
  localPort: string;
  name: string;
  port: string;
  address: string;
}

function showLldpDetail(neighbours: readonly LldpNeighbour[]): string {
  const blocks = neighbours.map((n) =>
    [
      '------------------------------------------------',
      `Local Intf: ${n.localPort}`,
      'Chassis id: 5254.0012.3456',
      `Port id: ${n.port}`,
      `Port Description: ${n.port}`,
      `System Name: ${n.name}`,
      '',
      'System Description:',
      'Cisco IOS Software, IOSv Software (VIOS-ADVENTERPRISEK9-M), Version 15.2(4)M7, RELEASE SOFTWARE (fc2)',
      '',
      'Time remaining: 98 seconds',
      'System Capabilities: B,R',
      'Enabled Capabilities: R',
      'Management Addresses:',
      `    IP: ${n.address}`,
      'Auto Negotiation - not supported',
      'Physical media capabilities - not advertised',
      'Media Attachment Unit type - not advertised',
      'Vlan ID: - not advertised',
      '',
    ].join('\n'),
  );
  return [...blocks, '', `Total entries displayed: ${neighbours.length}`].join('\n');
}

/** Secrets a noisy emulator's running configuration holds (a backup must never store them). */
export const NOISY_SECRETS = { userHash: '$1$SeCr$Us3rHashNeverStored', community: 'Pr1vate-Comm-9931' } as const;

export interface IosEmulator {
  port: number;
  addresses: string[];
  username: string;
  password: string;
  enableSecret: string;
  /** Highest number of simultaneous sessions seen per address. */
  maxConcurrent: Map<string, number>;
  /** Commands received, per address, in order. */
  commands: Map<string, string[]>;
  /** Running configuration per address (changed by configuration mode). */
  config: Map<string, string[]>;
  stop(): Promise<void>;
}

export const hostnameFor = (address: string) => `R${address.split('.').slice(2).join('-')}`;

let reads = 0;

function runningConfig(hostname: string, extra: string[], noise: boolean): string {
  const lines = ['Building configuration...', '', 'Current configuration : 1834 bytes', '!'];
  reads++;
  if (noise) lines.push(`! Last configuration change at 10:${String(reads % 60).padStart(2, '0')}:07 UTC Mon Dec 7 2026 by netops`, '!');
  lines.push('version 15.2', `hostname ${hostname}`, '!', 'enable secret 5 $1$abcd$XXXXXXXXXXXXXXXXXXXX', '!');
  if (noise) {
    lines.push(
      `username admin privilege 15 secret 5 ${NOISY_SECRETS.userHash}`,
      '!',
      `snmp-server community ${NOISY_SECRETS.community} RO`,
      `ntp clock-period ${17179800 + reads}`,
      '!',
    );
  }
  for (let i = 0; i < 4; i++) {
    lines.push(`interface GigabitEthernet0/${i}`, ` description uplink ${i}`, ` ip address 10.${i}.0.1 255.255.255.0`, ' no shutdown', '!');
  }
  lines.push(...extra, 'line vty 0 4', ' login local', '!', 'end');
  return lines.join('\n');
}

function showVersion(hostname: string): string {
  return [
    'Cisco IOS Software, IOSv Software (VIOS-ADVENTERPRISEK9-M), Version 15.2(4)M7, RELEASE SOFTWARE (fc2)',
    'Technical Support: http://www.cisco.com/techsupport',
    `ROM: Bootstrap program is IOSv`,
    '',
    `${hostname} uptime is 3 weeks, 2 days, 4 hours, 11 minutes`,
    'System image file is "flash0:/vios-adventerprisek9-m"',
    'cisco IOSv (revision 1.0) with 460033K/62464K bytes of memory.',
    'Processor board ID 9KLIE1234',
    '4 Gigabit Ethernet interfaces',
    'Configuration register is 0x0',
  ].join('\n');
}

function showIpIntBrief(): string {
  const rows = ['Interface                  IP-Address      OK? Method Status                Protocol'];
  for (let i = 0; i < 4; i++) rows.push(`GigabitEthernet0/${i}         10.${i}.0.1        YES NVRAM  up                    up      `);
  rows.push('Loopback0                  unassigned      YES unset  administratively down down    ');
  return rows.join('\n');
}

/** Configuration-mode keywords the emulator accepts; anything else is refused like IOS does. */
const CONFIG_KEYWORDS = new Set([
  'hostname',
  'interface',
  'description',
  'ip',
  'ipv6',
  'no',
  'ntp',
  'snmp-server',
  'username',
  'logging',
  'banner',
  'vlan',
  'name',
  'shutdown',
  'router',
  'network',
  'neighbor',
  'line',
  'login',
  'enable',
  'service',
  'access-list',
  'aaa',
  'tacacs-server',
  'radius-server',
  'spanning-tree',
  'switchport',
  'clock',
  'domain',
  'exit',
]);

/** What IOS answers to a configuration line it refuses, or null when it takes it. */
function configError(line: string): string | null {
  const words = line.split(/\s+/);
  if (!CONFIG_KEYWORDS.has(words[0]!)) return `${' '.repeat(line.length - line.trimStart().length + 1)}^\n% Invalid input detected at '^' marker.`;
  if (words.length === 1 && ['interface', 'hostname', 'description', 'ntp', 'username', 'vlan'].includes(words[0]!)) return '% Incomplete command.';
  return null;
}

/** One CLI session on one device. */
function serveShell(
  stream: ServerChannel,
  address: string,
  o: Required<Omit<IosEmulatorOptions, 'addresses' | 'port' | 'ident' | 'lldp'>> & Pick<IosEmulatorOptions, 'lldp'>,
  state: { commands: string[]; config: string[] },
): void {
  const hostname = hostnameFor(address);
  let mode: 'user' | 'priv' | 'config' = 'user';
  let paging = true;
  let awaitingSecret = false;
  let pendingPages: string[] = [];
  let line = '';
  const prefix = o.promptPrefix[address] ?? '';
  const prompt = () => `${prefix}${hostname}${mode === 'user' ? '>' : mode === 'priv' ? '#' : '(config)#'}`;
  const write = (text: string) => stream.write(text.replace(/\n/g, '\r\n'));
  const page = (text: string) => {
    const lines = text.split('\n');
    if (!paging || lines.length <= 20) return write(`${text}\n${prompt()}`);
    pendingPages = [];
    for (let i = 20; i < lines.length; i += 20) pendingPages.push(lines.slice(i, i + 20).join('\n'));
    write(`${lines.slice(0, 20).join('\n')}\n --More-- `);
  };
  const execute = (cmd: string) => {
    state.commands.push(cmd);
    const c = cmd.trim();
    if (o.hangOn && c.includes(o.hangOn)) return;
    if (awaitingSecret) {
      awaitingSecret = false;
      if (c === o.enableSecret) mode = 'priv';
      else write('% Access denied\n');
      return write(prompt());
    }
    if (c === '') return write(prompt());
    if (c === 'enable') {
      if (mode !== 'user') return write(prompt());
      awaitingSecret = true;
      return write('Password: ');
    }
    if (c === 'terminal length 0') {
      paging = false;
      return write(prompt());
    }
    if (/^terminal width \d+$/.test(c)) return write(prompt());
    if (c === 'write memory' && mode === 'priv') {
      return write(`Building configuration...\n[OK]\n${prompt()}`);
    }
    if (c === 'exit' || c === 'logout') {
      if (mode === 'config') {
        mode = 'priv';
        return write(prompt());
      }
      stream.exit(0);
      return stream.end();
    }
    if (mode === 'config') {
      if (c === 'end') mode = 'priv';
      else {
        const refused = configError(c);
        if (refused) return write(`${refused}\n${prompt()}`);
        state.config.push(c);
      }
      return write(prompt());
    }
    if (c === 'configure terminal' || c === 'conf t') {
      if (mode !== 'priv') return write(`% Invalid input detected at '^' marker.\n${prompt()}`);
      mode = 'config';
      return write(`Enter configuration commands, one per line.  End with CNTL/Z.\n${prompt()}`);
    }
    if (c === 'show version') return page(showVersion(hostname));
    if (c === 'show ip interface brief') return page(showIpIntBrief());
    if (c === 'show lldp neighbors detail' && o.lldp) return page(showLldpDetail(o.lldp[address] ?? []));
    if (c === 'show running-config') {
      if (mode !== 'priv') return write(`% Invalid input detected at '^' marker.\n${prompt()}`);
      return page(runningConfig(hostname, state.config, o.noise));
    }
    write(`% Invalid input detected at '^' marker.\n${prompt()}`);
  };
  stream.on('data', (data: Buffer) => {
    for (const ch of data.toString('utf8')) {
      if (pendingPages.length > 0) {
        const next = pendingPages.shift()!;
        write(`\b\b\b\b\b\b\b\b\b\b         \b\b\b\b\b\b\b\b\b\b${next}\n${pendingPages.length > 0 ? ' --More-- ' : prompt()}`);
        continue;
      }
      if (ch === '\r' || ch === '\n') {
        if (ch === '\n' && line === '' && data.includes('\r')) continue;
        const cmd = line;
        line = '';
        if (!awaitingSecret) write(`${cmd}\n`);
        else write('\n');
        setTimeout(() => execute(cmd), o.commandDelayMs);
      } else line += ch;
    }
  });
  write(`\n${prompt()}`);
}

export async function startIosEmulator(options: IosEmulatorOptions): Promise<IosEmulator> {
  const o = {
    username: 'netops',
    password: 'Dev1ce-Pa55',
    enableSecret: 'En4ble-Secret',
    commandDelayMs: 0,
    noise: false,
    promptPrefix: {},
    hangOn: '',
    ...options,
  };
  // NOTE: ssh2 now and then generates an ed25519 key its own parser refuses ("Malformed OpenSSH private key").
  let hostKey = utils.generateKeyPairSync('ed25519').private;
  while (utils.parseKey(hostKey) instanceof Error) hostKey = utils.generateKeyPairSync('ed25519').private;
  const maxConcurrent = new Map<string, number>();
  const current = new Map<string, number>();
  const commands = new Map<string, string[]>();
  const config = new Map<string, string[]>();
  const server = new Server({ hostKeys: [hostKey], ...(o.ident ? { ident: o.ident } : {}) }, (client: Connection) => {
    const address = (client as unknown as { _sock?: net.Socket })._sock?.localAddress?.replace(/^::ffff:/, '') ?? 'unknown';
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password' && ctx.username === o.username && ctx.password === o.password) return ctx.accept();
      ctx.reject(['password']);
    });
    client.on('ready', () => {
      const n = (current.get(address) ?? 0) + 1;
      current.set(address, n);
      maxConcurrent.set(address, Math.max(n, maxConcurrent.get(address) ?? 0));
      client.on('session', (accept) => {
        const session = accept();
        session.on('pty', (acceptPty) => acceptPty?.());
        session.on('shell', (acceptShell) => {
          const state = { commands: commands.get(address) ?? [], config: config.get(address) ?? [] };
          commands.set(address, state.commands);
          config.set(address, state.config);
          serveShell(acceptShell(), address, o, state);
        });
      });
    });
    client.on('close', () => current.set(address, Math.max(0, (current.get(address) ?? 1) - 1)));
    client.on('error', () => undefined);
  });
  const listeners = await Promise.all(
    options.addresses.map(
      (address) =>
        new Promise<net.Server>((resolve, reject) => {
          const s = net.createServer((socket) => server.injectSocket(socket));
          s.once('error', reject);
          s.listen(options.port, address, () => resolve(s));
        }),
    ),
  );
  return {
    port: options.port,
    addresses: options.addresses,
    username: o.username,
    password: o.password,
    enableSecret: o.enableSecret,
    maxConcurrent,
    commands,
    config,
    async stop() {
      await Promise.all(listeners.map((l) => new Promise<void>((r) => l.close(() => r()))));
      server.close();
    },
  };
}

/** `count` addresses 127.0.<block>.1 … */
export function loopbackAddresses(count: number, block = 10): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.${block + Math.floor(i / 250)}.${(i % 250) + 1}`);
}
