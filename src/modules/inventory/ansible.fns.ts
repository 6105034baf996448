/** Ansible dynamic-inventory naming: pure, tested. */

/** `ansible_network_os` for a network driver (the Netmiko/TextFSM key Opsdeck uses). */
const NETWORK_OS: Record<string, string> = {
  cisco_ios: 'cisco.ios.ios',
  cisco_xe: 'cisco.ios.ios',
  cisco_nxos: 'cisco.nxos.nxos',
  cisco_xr: 'cisco.iosxr.iosxr',
  cisco_iosxr: 'cisco.iosxr.iosxr',
  cisco_asa: 'cisco.asa.asa',
  juniper_junos: 'junipernetworks.junos.junos',
  arista_eos: 'arista.eos.eos',
  vyos: 'vyos.vyos.vyos',
  linux: 'linux',
};

export function networkOs(driver: string | null | undefined): string | null {
  if (!driver) return null;
  return NETWORK_OS[driver] ?? driver;
}

/** A valid Ansible group name: letters, digits and underscores, not starting with a digit. */
export function groupName(prefix: string, name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return `${prefix}_${slug || 'unnamed'}`;
}
