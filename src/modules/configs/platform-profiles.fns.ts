/**
 * Platform profiles: how Opsdeck talks to a kind of device to read its configuration
 * (`config_backup`) and to change it (`config_push`). A profile is chosen by the inventory
 * platform's network driver (netmiko names: `cisco_ios`, `arista_eos`, …). The built-in ones are
 * below; user-defined profiles (same shape) are stored through the API and win over a built-in
 * with the same id. Patterns are RE2 (`platform/linear-regex.ts`): no backtracking, so a profile
 * written by a user cannot stall a worker.
 */

export interface MaskRule {
  /** RE2 pattern applied per line; group 1 is kept, the rest of the match is replaced. */
  pattern: string;
  /** What replaces the secret (after group 1). */
  replacement: string;
}

export interface PlatformProfile {
  id: string;
  name: string;
  /** Network drivers (inventory platform `network_driver`) this profile serves. */
  drivers: string[];
  /** device: an interactive CLI (prompts, paging, enable); exec: one SSH exec channel per command (servers). */
  mode: 'device' | 'exec';
  /** device mode: enter privileged mode (`enable`) with the credential's enable secret. */
  enable: boolean;
  /** device mode: extra prompt pattern (RE2) when the platform's prompt is not `name>`/`name#` (e.g. Junos `user@host>`). */
  prompt?: string;
  /** Sent once after login (paging and width off); their output is ignored. */
  setupCommands: string[];
  /** Commands whose outputs, joined by a blank line, are the configuration kept in Git. */
  backupCommands: string[];
  /** Lines matching any of these (RE2, per line) are removed: timestamps, counters, noise. */
  stripLines: string[];
  /** Secrets masked before anything is stored, logged or sent in an event. */
  mask: MaskRule[];
  /** Configuration mode for `config_push`; null: the platform cannot be pushed to. */
  configure: { enter: string[]; commit: string[]; exit: string[] } | null;
}

const CISCO_SECRETS: MaskRule[] = [
  { pattern: '^(\\s*(?:enable )?(?:secret|password) \\d+ )\\S+', replacement: '<removed>' },
  { pattern: '^(\\s*username \\S+(?: privilege \\d+)? (?:secret|password) \\d+ )\\S+', replacement: '<removed>' },
  { pattern: '^(\\s*snmp-server community )\\S+', replacement: '<removed>' },
  { pattern: '^(\\s*(?:tacacs-server|radius-server) (?:.* )?key(?: \\d+)? )\\S+', replacement: '<removed>' },
  { pattern: '^(\\s*key(?:-string)? (?:\\d+ )?)\\S+', replacement: '<removed>' },
  { pattern: '^(\\s*(?:ip )?(?:ospf|bgp)? ?(?:authentication-key|message-digest-key \\d+ md5)(?: \\d+)? )\\S+', replacement: '<removed>' },
  { pattern: '^(\\s*neighbor \\S+ password(?: \\d+)? )\\S+', replacement: '<removed>' },
];

/** The built-in profiles (Cisco IOS/IOS-XE, NX-OS, IOS-XR, Arista EOS, Juniper Junos, Linux). */
export const BUILTIN_PROFILES: readonly PlatformProfile[] = [
  {
    id: 'cisco_ios',
    name: 'Cisco IOS / IOS-XE',
    drivers: ['cisco_ios', 'cisco_xe'],
    mode: 'device',
    enable: true,
    setupCommands: ['terminal length 0', 'terminal width 511'],
    backupCommands: ['show running-config'],
    stripLines: [
      '^Building configuration',
      '^Current configuration ?: \\d+ bytes',
      '^! Last configuration change at ',
      '^! NVRAM config last updated at ',
      '^! No configuration change since last restart',
      '^ntp clock-period ',
    ],
    mask: CISCO_SECRETS,
    configure: { enter: ['configure terminal'], commit: [], exit: ['end'] },
  },
  {
    id: 'cisco_nxos',
    name: 'Cisco NX-OS',
    drivers: ['cisco_nxos'],
    mode: 'device',
    enable: false,
    setupCommands: ['terminal length 0', 'terminal width 511'],
    backupCommands: ['show running-config'],
    stripLines: ['^!Command: show running-config', '^!Running configuration last done at', '^!Time: ', '^!NVRAM config last updated at'],
    mask: [
      ...CISCO_SECRETS,
      { pattern: '^(\\s*snmp-server user \\S+ \\S+ auth \\S+ )\\S+', replacement: '<removed>' },
      { pattern: '^(\\s*username \\S+ password \\d+ )\\S+', replacement: '<removed>' },
    ],
    configure: { enter: ['configure terminal'], commit: [], exit: ['end'] },
  },
  {
    id: 'cisco_xr',
    name: 'Cisco IOS-XR',
    drivers: ['cisco_xr'],
    mode: 'device',
    enable: false,
    setupCommands: ['terminal length 0', 'terminal width 0'],
    backupCommands: ['show running-config'],
    stripLines: [
      '^Building configuration',
      '^!! Last configuration change at ',
      '^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\\d+ \\d+:\\d+:\\d+(?:\\.\\d+)? \\S+$',
    ],
    mask: [...CISCO_SECRETS, { pattern: '^(\\s*(?:secret|password) (?:\\d+ )?)\\S+', replacement: '<removed>' }],
    configure: { enter: ['configure terminal'], commit: ['commit'], exit: ['end'] },
  },
  {
    id: 'arista_eos',
    name: 'Arista EOS',
    drivers: ['arista_eos'],
    mode: 'device',
    enable: true,
    setupCommands: ['terminal length 0', 'terminal width 32767'],
    backupCommands: ['show running-config'],
    stripLines: ['^! Command: show running-config', '^! device: .*uptime', '^! Time: ', '^! Startup-config last modified at '],
    mask: [
      { pattern: '^(\\s*(?:enable )?secret (?:sha512|5|0|7) )\\S+', replacement: '<removed>' },
      { pattern: '^(\\s*username \\S+(?: privilege \\d+)?(?: role \\S+)? secret (?:sha512|5|0|7) )\\S+', replacement: '<removed>' },
      { pattern: '^(\\s*snmp-server community )\\S+', replacement: '<removed>' },
      { pattern: '^(\\s*(?:tacacs-server|radius-server) (?:.* )?key \\d+ )\\S+', replacement: '<removed>' },
      { pattern: '^(\\s*neighbor \\S+ password \\d+ )\\S+', replacement: '<removed>' },
    ],
    configure: { enter: ['configure terminal'], commit: [], exit: ['end'] },
  },
  {
    id: 'juniper_junos',
    name: 'Juniper Junos',
    drivers: ['juniper_junos', 'juniper'],
    mode: 'device',
    enable: false,
    prompt: '(?:^|\\n)[A-Za-z0-9_.\\-]+@[A-Za-z0-9_.\\-]+[>#%] ?$',
    setupCommands: ['set cli screen-length 0', 'set cli screen-width 0'],
    backupCommands: ['show configuration | display omit'],
    stripLines: ['^## Last commit: ', '^## Last changed: '],
    mask: [
      { pattern: '^(\\s*(?:encrypted-password|secret|authentication-key|pre-shared-key ascii-text) ")[^"]+', replacement: '<removed>' },
      { pattern: '^(\\s*community )\\S+', replacement: '<removed>' },
    ],
    configure: { enter: ['configure private'], commit: ['commit and-quit'], exit: [] },
  },
  {
    id: 'linux',
    name: 'Linux server',
    drivers: ['linux'],
    mode: 'exec',
    enable: false,
    setupCommands: [],
    backupCommands: ['cat /etc/hostname /etc/hosts /etc/resolv.conf 2>/dev/null', 'ip -o address show 2>/dev/null', 'ip route show 2>/dev/null'],
    stripLines: [],
    mask: [{ pattern: '^(\\s*(?:password|secret|token)\\s*[=:]\\s*)\\S+', replacement: '<removed>' }],
    configure: null,
  },
];

/** The profile for a network driver: user-defined ones first, then the built-ins; null when none serves it. */
export function profileFor(driver: string | null | undefined, custom: readonly PlatformProfile[] = []): PlatformProfile | null {
  if (!driver) return null;
  return custom.find((p) => p.drivers.includes(driver)) ?? BUILTIN_PROFILES.find((p) => p.drivers.includes(driver)) ?? null;
}
