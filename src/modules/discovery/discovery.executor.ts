import net from 'node:net';
import { Type, type Static } from 'typebox';
import type { Actor } from '../../platform/http/auth.js';
import {
  connectTarget,
  createRateLimiter,
  DeviceShell,
  EXECUTORS,
  factsOf,
  openSnmpSession,
  type Executor,
  type ExecutorSettings,
  type ResolvedCredential,
  type TargetContext,
} from '../jobs/index.js';
import { CredentialRejectedError } from '../credentials/index.js';
import { classify } from './classify.fns.js';
import { emptyHostResult, HostResult, neighboursOf, interfacesOf, type HostResultT } from './host-result.js';

const ProfileIds = Type.Array(Type.String({ format: 'uuid', maxLength: 36 }), { maxItems: 10, uniqueItems: true });
export const DiscoveryParams = Type.Object(
  {
    scan_id: Type.String({ format: 'uuid', maxLength: 36 }),
    liveness: Type.Union([Type.Literal('icmp'), Type.Literal('tcp'), Type.Literal('both')]),
    ports: Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), { minItems: 1, maxItems: 64, uniqueItems: true }),
    ssh_port: Type.Integer({ minimum: 1, maximum: 65535 }),
    snmp_port: Type.Integer({ minimum: 1, maximum: 65535 }),
    ssh_profile_ids: ProfileIds,
    snmp_profile_ids: ProfileIds,
    timeout_ms: Type.Integer({ minimum: 50, maximum: 30_000 }),
    rate_per_second: Type.Integer({ minimum: 1, maximum: 100_000 }),
  },
  { additionalProperties: false },
);
export type DiscoveryParams = Static<typeof DiscoveryParams>;

export interface DiscoveryExecutorDeps {
  /** The vault's profile fallback (`tryInOrder`): the first credential that works, as the run's initiator. */
  tryProfile<T>(
    profileId: string,
    deviceKey: string,
    attempt: (c: ResolvedCredential) => Promise<T>,
    context: { purpose: string; runId: string; actor?: Actor },
  ): Promise<{ result: T; credentialId: string }>;
  /** The parsers module: ntc-templates by platform and command. */
  parse(platform: string, command: string, output: string): Promise<unknown>;
}

type PortState = 'open' | 'closed' | 'filtered';

function tcpProbe(host: string, port: number, timeoutMs: number, signal: AbortSignal, onBanner?: (line: string) => void): Promise<PortState> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let state: PortState | null = null;
    const done = (s: PortState) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(state ?? s);
    };
    const onAbort = () => done('filtered');
    let timer = setTimeout(() => done('filtered'), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      if (!onBanner) return done('open');
      state = 'open';
      // The port answered; its banner may take longer than a connect under load (at least 3 s).
      clearTimeout(timer);
      timer = setTimeout(() => done('open'), Math.max(timeoutMs, 3000));
      // An SSH server speaks first: its identification line is the banner.
      let buf = '';
      socket.on('data', (c: Buffer) => {
        buf += c.toString('latin1');
        const nl = buf.indexOf('\n');
        if (nl >= 0 || buf.length > 255) {
          onBanner(buf.slice(0, nl >= 0 ? nl : 255).trim());
          done('open');
        }
      });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'closed' : 'filtered'));
  });
}

const SNMP_OIDS = { sysDescr: '1.3.6.1.2.1.1.1.0', sysObjectID: '1.3.6.1.2.1.1.2.0', sysName: '1.3.6.1.2.1.1.5.0', serial: '1.3.6.1.2.1.47.1.1.1.1.11.1' };

async function snmpIdentity(host: string, p: DiscoveryParams, c: ResolvedCredential) {
  const session = openSnmpSession(host, { version: c.snmpV3 ? '3' : '2c', port: p.snmp_port, timeout_ms: p.timeout_ms, retries: 0 }, c);
  try {
    const vbs = await session.get(Object.values(SNMP_OIDS)).catch((err: unknown) => {
      // NOTE: a wrong community or v3 user answers nothing: for the profile fallback that is a rejected credential.
      throw new CredentialRejectedError(`no SNMP answer (${err instanceof Error ? err.message : String(err)})`);
    });
    const text = (i: number) => {
      const v = vbs[i]?.value;
      return v === undefined || v === null || typeof v === 'number' ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
    };
    const serial = text(3);
    return { sys_descr: text(0), sys_object_id: text(1), sys_name: text(2), serial: serial && serial.trim() !== '' ? serial.trim() : null };
  } finally {
    session.close();
  }
}

const SHOW_COMMANDS = ['show version', 'show ip interface brief', 'show lldp neighbors detail', 'show cdp neighbors detail'] as const;

async function sshCommands(ctx: TargetContext, p: DiscoveryParams, settings: ExecutorSettings, credential: ResolvedCredential) {
  const client = await connectTarget({ ...ctx, credential }, { port: p.ssh_port, connect_timeout_ms: Math.max(1000, p.timeout_ms * 4) }, settings);
  const outputs: Record<string, string> = {};
  try {
    const shell = await DeviceShell.open(client, ctx.signal);
    const timeout = Math.max(5000, p.timeout_ms * 10);
    await shell.waitPrompt(timeout);
    await shell.run('terminal length 0', timeout);
    for (const command of SHOW_COMMANDS) outputs[command] = await shell.run(command, timeout);
    shell.close();
  } finally {
    client.end();
  }
  return outputs;
}

const ping = EXECUTORS.find((e) => e.type === 'ping')!;

/** Probes one address: liveness, open ports, SSH banner, SNMP identity, `show` commands parsed, neighbours, classification. */
export function discoveryExecutor(deps: DiscoveryExecutorDeps): Executor<DiscoveryParams> {
  return {
    type: 'discovery',
    description:
      'Discovery scan of one address: liveness (ICMP/TCP), open ports, SSH banner, SNMP identity, show commands, LLDP/CDP neighbours, classification.',
    params: DiscoveryParams,
    output: HostResult,
    credential: 'none',
    targets: 'required',
    changesDevices: () => false,
    /** The scan's counts on its end event: the alerts module raises a `discovery` alert from them. */
    summary(parsed: unknown[]) {
      const hosts = parsed.filter((p): p is HostResultT => typeof p === 'object' && p !== null && 'alive' in p);
      return { probed: hosts.length, alive: hosts.filter((h) => h.alive).length, identified: hosts.filter((h) => h.platform !== null).length };
    },
    probesPerTarget: (p) => p.ports.length + 1,
    async run(ctx, p, settings) {
      const host = ctx.host;
      const refused = settings.egress.checkLiteral(new URL(`http://${net.isIPv6(host) ? `[${host}]` : host}/`));
      if (refused) return { ok: false, output: '', parsed: null, error: `egress policy: ${refused}`, retryable: false };
      let take = ctx.shared.get('discovery_rate') as ReturnType<typeof createRateLimiter> | undefined;
      if (!take) ctx.shared.set('discovery_rate', (take = createRateLimiter(p.rate_per_second)));
      const r: HostResultT = emptyHostResult(host);
      if (p.liveness !== 'tcp') {
        await take(ctx.signal);
        const res = await ping.run(ctx, { count: 1, timeout_ms: Math.max(100, p.timeout_ms) }, settings).catch(() => null);
        r.icmp = Boolean((res?.parsed as { reachable?: boolean } | null)?.reachable);
      }
      if (p.liveness !== 'icmp') {
        const states = await Promise.all(
          p.ports.map(async (port) => {
            await take(ctx.signal);
            const onBanner = port === p.ssh_port ? (line: string) => void (r.ssh_banner = line.slice(0, 255)) : undefined;
            return [port, await tcpProbe(host, port, p.timeout_ms, ctx.signal, onBanner)] as const;
          }),
        );
        r.open_ports = states.filter(([, s]) => s === 'open').map(([port]) => port);
        // NOTE: a refused connection does not count: loopback and many firewalls answer RST for every address.
        r.alive = r.open_ports.length > 0;
      }
      r.alive ||= r.icmp === true;
      if (ctx.signal.aborted) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('aborted');
      const context = { purpose: 'discovery', runId: ctx.runId, actor: ctx.actor };
      for (const profileId of p.snmp_profile_ids) {
        try {
          const got = await deps.tryProfile(profileId, `${host}:snmp`, (c) => snmpIdentity(host, p, c), context);
          r.snmp = got.result;
          r.snmp_credential_id = got.credentialId;
          r.alive = true;
          break;
        } catch (err) {
          r.notes.push(`snmp: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300));
        }
      }
      const outputs: Record<string, string> = {};
      if (r.open_ports.includes(p.ssh_port) || (p.liveness === 'icmp' && r.icmp)) {
        for (const profileId of p.ssh_profile_ids) {
          try {
            const got = await deps.tryProfile(profileId, `${host}:${p.ssh_port}`, (c) => sshCommands(ctx, p, settings, c), context);
            Object.assign(outputs, got.result);
            r.ssh_credential_id = got.credentialId;
            break;
          } catch (err) {
            r.notes.push(`ssh: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300));
          }
        }
      }
      // Only the device's own `show version` speaks for it (neighbour output describes other devices).
      const own: Record<string, string> = outputs['show version'] ? { 'show version': outputs['show version'] } : {};
      const c = classify({ sysObjectId: r.snmp?.sys_object_id, sysDescr: r.snmp?.sys_descr, banner: r.ssh_banner, commands: own });
      Object.assign(r, { platform: c.platform, confidence: c.confidence, evidence: c.evidence });
      if (c.platform && outputs['show version']) {
        const parse = (command: string) => (outputs[command] ? deps.parse(c.platform!, command, outputs[command]).catch(() => null) : Promise.resolve(null));
        const [version, brief, lldp, cdp] = await Promise.all(SHOW_COMMANDS.map(parse));
        r.facts = factsOf(version);
        r.interfaces = interfacesOf(brief);
        r.neighbours = [...neighboursOf(lldp, 'lldp'), ...neighboursOf(cdp, 'cdp')];
      }
      if (r.snmp?.sys_name) r.facts.hostname ??= r.snmp.sys_name;
      if (r.snmp?.serial) r.facts.serial ??= r.snmp.serial;
      ctx.log('info', r.alive ? `alive; ports ${r.open_ports.join(', ') || 'none'}; ${c.platform ?? 'unclassified'} (${c.confidence})` : 'no answer');
      return { ok: true, output: r.alive ? `${host} alive ${c.platform ?? ''}`.trim() : `${host} no answer`, parsed: r };
    },
  };
}
