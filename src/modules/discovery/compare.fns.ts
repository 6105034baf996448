import type { HostResultT } from './host-result.js';

/** The inventory device fields a discovery compares (name is matched, not compared). */
export interface KnownDevice {
  id: string;
  name: string;
  hostname: string | null;
  primary_ip4: string | null;
  primary_ip6: string | null;
  serial: string | null;
  os_version: string | null;
}

export type HostState = 'new' | 'changed' | 'unchanged' | 'missing' | 'absent';
export interface Comparison {
  state: HostState;
  device: KnownDevice | null;
  changes: { field: string; inventory: string | null; discovered: string | null }[];
}

/** The device a host is: the one with its address, else the one named like its host name. */
export function matchDevice(host: HostResultT, byAddress: Map<string, KnownDevice>, byName: Map<string, KnownDevice>): KnownDevice | null {
  return byAddress.get(host.address) ?? (host.facts.hostname ? (byName.get(host.facts.hostname.toLowerCase()) ?? null) : null);
}

/** What discovery would write to a device: only fields it learnt. */
export function discoveredFields(host: HostResultT): Record<string, string> {
  const v6 = host.address.includes(':');
  return {
    [v6 ? 'primary_ip6' : 'primary_ip4']: host.address,
    ...(host.facts.hostname ? { hostname: host.facts.hostname.slice(0, 253) } : {}),
    ...(host.facts.serial ? { serial: host.facts.serial.slice(0, 100) } : {}),
    ...(host.facts.os_version ? { os_version: host.facts.os_version.slice(0, 100) } : {}),
  };
}

export function compare(host: HostResultT, device: KnownDevice | null): Comparison {
  if (!host.alive) return { state: device ? 'missing' : 'absent', device, changes: [] };
  if (!device) return { state: 'new', device: null, changes: [] };
  const changes = Object.entries(discoveredFields(host))
    .filter(([field, value]) => (device[field as keyof KnownDevice] ?? null) !== value)
    .map(([field, value]) => ({ field, inventory: (device[field as keyof KnownDevice] as string | null) ?? null, discovered: value }));
  return { state: changes.length > 0 ? 'changed' : 'unchanged', device, changes };
}
