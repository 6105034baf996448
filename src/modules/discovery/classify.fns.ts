/** Platform classification of a discovered host from its evidence, with a confidence in [0, 1]. */

export interface Evidence {
  source: 'sys_object_id' | 'sys_descr' | 'ssh_banner' | 'command';
  detail: string;
  platform: string;
  weight: number;
}

export interface Classification {
  platform: string | null;
  confidence: number;
  evidence: Evidence[];
}

/** SNMP enterprise numbers (1.3.6.1.4.1.<n>) → the platform they most often mean. */
export const ENTERPRISES: Record<string, string> = {
  '9': 'cisco_ios',
  '2636': 'juniper_junos',
  '30065': 'arista_eos',
  '2011': 'huawei',
  '12356': 'fortinet',
  '25461': 'paloalto_panos',
  '14988': 'mikrotik_routeros',
  '6486': 'alcatel_sros',
  '11': 'hp_procurve',
  '8072': 'linux',
};

/** Text markers (sysDescr, `show version`, SSH banner) → platform; the first that matches wins. */
const MARKERS: [RegExp, string][] = [
  [/NX-OS/i, 'cisco_nxos'],
  [/IOS[ -]XR/i, 'cisco_xr'],
  [/IOS[ -]XE/i, 'cisco_xe'],
  [/Cisco IOS|IOSv|Cisco Internetwork Operating System/i, 'cisco_ios'],
  [/Arista|\bEOS\b/i, 'arista_eos'],
  [/JUNOS/i, 'juniper_junos'],
  [/RouterOS|MikroTik/i, 'mikrotik_routeros'],
  [/FortiGate|FortiOS/i, 'fortinet'],
  [/PAN-OS/i, 'paloalto_panos'],
  [/Huawei|VRP/i, 'huawei'],
  [/Linux/i, 'linux'],
];

const BANNERS: [RegExp, string][] = [
  [/^SSH-[\d.]+-Cisco/i, 'cisco_ios'],
  [/^SSH-[\d.]+-(?:ROSSSH|MikroTik)/i, 'mikrotik_routeros'],
  [/^SSH-[\d.]+-OpenSSH.*(?:Ubuntu|Debian|el\d)/i, 'linux'],
];

export function markerPlatform(text: string): string | null {
  return MARKERS.find(([re]) => re.test(text))?.[1] ?? null;
}

/** The enterprise number of a sysObjectID under 1.3.6.1.4.1, else null. */
export function enterpriseOf(sysObjectId: string): string | null {
  return /^\.?1\.3\.6\.1\.4\.1\.(\d+)/.exec(sysObjectId)?.[1] ?? null;
}

export interface HostSignals {
  sysObjectId?: string | null;
  sysDescr?: string | null;
  banner?: string | null;
  /** Command → output (e.g. `show version`). */
  commands?: Record<string, string>;
}

/** Weighs each signal; the platform with the most combined weight wins, confidence = 1 − Π(1 − w) over its evidence. */
export function classify(s: HostSignals): Classification {
  const evidence: Evidence[] = [];
  if (s.sysObjectId) {
    const ent = enterpriseOf(s.sysObjectId);
    const platform = ent ? ENTERPRISES[ent] : undefined;
    if (platform) evidence.push({ source: 'sys_object_id', detail: `${s.sysObjectId} (enterprise ${ent})`, platform, weight: 0.6 });
  }
  if (s.sysDescr) {
    const platform = markerPlatform(s.sysDescr);
    if (platform) evidence.push({ source: 'sys_descr', detail: s.sysDescr.slice(0, 200), platform, weight: 0.5 });
  }
  if (s.banner) {
    const platform = BANNERS.find(([re]) => re.test(s.banner!))?.[1];
    if (platform) evidence.push({ source: 'ssh_banner', detail: s.banner.slice(0, 200), platform, weight: 0.3 });
  }
  for (const [command, output] of Object.entries(s.commands ?? {})) {
    const platform = markerPlatform(output);
    const line = output.split('\n').find((l) => platform && MARKERS.some(([re, p]) => p === platform && re.test(l)));
    if (platform) evidence.push({ source: 'command', detail: `${command}: ${(line ?? '').trim().slice(0, 200)}`, platform, weight: 0.8 });
  }
  // A more specific Cisco platform from text outranks the generic enterprise-9 guess.
  const score = new Map<string, number>();
  for (const e of evidence) score.set(e.platform, 1 - (1 - (score.get(e.platform) ?? 0)) * (1 - e.weight));
  const best = [...score.entries()].sort((a, b) => b[1] - a[1])[0];
  if (!best) return { platform: null, confidence: 0, evidence };
  return { platform: best[0], confidence: Math.round(best[1] * 100) / 100, evidence };
}
