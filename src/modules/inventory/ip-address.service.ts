import { json } from '../../platform/db/columns.js';
import { BadRequestError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import type { RowOf } from './crud.repository.js';
import type { InventoryCore } from './inventory.core.js';
import { ipAddressSpec } from './ip-address.repository.js';
import { IpAddress, IpAddressBodies, type IpCheckResult } from './ip-address.schemas.js';
import { normaliseCidr, normaliseHost } from './ip.fns.js';
import { joinedRef, text, type ResourceDef } from './resource.js';

/** An address's interface with the device it is on (both or neither). */
function withDevice<I extends object>(iface: I | null, device: { id: string; name: string } | null): (I & { device: { id: string; name: string } }) | null {
  return iface && device ? { ...iface, device } : null;
}

/** IP addresses: stored normalised (`host/prefix`), unique per namespace. */
type IpAddressRow = RowOf<typeof ipAddressSpec>;

export const ipAddressDef: ResourceDef<IpAddress, IpAddressRow> = {
  kind: 'ip_address',
  plural: 'ip-addresses',
  title: 'IP address',
  permission: 'ipam',
  tag: 'ipam',
  repo: (r) => r.ipAddresses,
  schemas: { item: IpAddress, ...IpAddressBodies },
  filters: ipAddressSpec.filters,
  sortFields: Object.keys(ipAddressSpec.sort),
  unique: [],
  async toDb(ctx, input, existing) {
    const v: Record<string, unknown> = {};
    let host = existing?.host;
    if (typeof input.address === 'string') {
      const c = normaliseCidr(input.address);
      if (typeof c === 'string') ctx.error('address', c);
      else {
        Object.assign(v, { address: c.address, host: c.host, prefixLength: c.prefixLength, family: c.family });
        host = c.host;
      }
    }
    text(v, input, 'namespace', 'namespace');
    const namespace = (typeof v.namespace === 'string' ? v.namespace : undefined) ?? existing?.namespace ?? 'Global';
    if (host && ('address' in input || 'namespace' in input)) {
      const h = host;
      await ctx.unique('address', `${namespace}/${h}`, existing?.id ?? null, () => ctx.repos.ipQueries.byNamespaceHost(namespace, h));
    }
    text(v, input, 'status', 'status');
    text(v, input, 'dns_name', 'dnsName', '');
    text(v, input, 'description', 'description', '');
    const iface = await ctx.ref('interface', input.interface, 'interface');
    if (iface !== undefined) v.interfaceId = iface;
    const cf = await ctx.customFields('ip_address', input.custom_fields, existing ? json.read(existing.customFields) : null);
    if (cf !== undefined) v.customFields = cf;
    return { values: existing ? v : { namespace: 'Global', status: 'active', dnsName: '', description: '', ...v } };
  },
  toApi: (r) => ({
    id: r.id,
    address: r.address,
    host: r.host,
    prefix_length: Number(r.prefixLength),
    family: Number(r.family) as 4 | 6,
    namespace: r.namespace,
    interface: withDevice(joinedRef(r.interfaceId, r.interfaceName), joinedRef(r.deviceId, r.deviceName)),
    status: r.status as IpAddress['status'],
    dns_name: r.dnsName,
    description: r.description,
    custom_fields: json.read<Record<string, unknown>>(r.customFields) ?? {},
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  }),
};

/** `POST /ip-addresses/check`: is this address in use, and by what (the cockpit's check-ip). */
export function createIpCheckService(core: InventoryCore) {
  return {
    async check(actor: Actor, input: { address: string; namespace?: string }): Promise<IpCheckResult> {
      requirePermission(actor, 'ipam:read');
      const h = normaliseHost(input.address);
      if (typeof h === 'string') throw new BadRequestError('IP_ADDRESS_INVALID', h, [{ path: 'body.address', message: h }]);
      const { repos } = core;
      const ips = await repos.ipAddresses.byColumn('ipAddresses.host', [h.host]);
      const primaries = await repos.ipQueries.devicesWithPrimary(h.host);
      const usedBy: IpCheckResult['used_by'] = [
        ...ips
          .filter((r) => !input.namespace || r.namespace === input.namespace)
          .map((r) => ({
            kind: 'ip_address' as const,
            ip_address_id: r.id,
            address: r.address,
            namespace: r.namespace,
            device: joinedRef(r.deviceId, r.deviceName),
            interface: joinedRef(r.interfaceId, r.interfaceName),
          })),
        ...primaries.map((d) => ({ kind: 'primary_ip' as const, ip_address_id: null, address: null, namespace: null, device: d, interface: null })),
      ];
      return { address: h.host, in_use: usedBy.length > 0, used_by: usedBy };
    },
  };
}
