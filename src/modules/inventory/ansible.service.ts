import { Type, type Static } from 'typebox';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import type { CrudService } from './crud.service.js';
import type { Device } from './device.schemas.js';
import type { DeviceGroup } from './device-group.service.js';
import type { InventoryCore } from './inventory.core.js';
import { pathOf } from './location.fns.js';
import { groupName, networkOs } from './ansible.fns.js';

/**
 * `GET /inventory/ansible`: the JSON an Ansible inventory script prints for `--list`. Groups
 * by location (nested as the location tree), role, platform, tag and device group; hostvars
 * carry `ansible_host`, `ansible_network_os` and the custom fields.
 */

const Group = Type.Object(
  {
    hosts: Type.Optional(Type.Array(Type.String({ maxLength: 200 }))),
    children: Type.Optional(Type.Array(Type.String({ maxLength: 200 }))),
    vars: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);
export const AnsibleInventory = Type.Object(
  { _meta: Type.Object({ hostvars: Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown())) }, { additionalProperties: false }), all: Group },
  { additionalProperties: Group, description: 'Ansible dynamic inventory (script --list format)' },
);
export type AnsibleInventory = Static<typeof AnsibleInventory>;
type GroupBody = { hosts?: string[]; children?: string[]; vars?: Record<string, unknown> };

export function createAnsibleService(
  core: InventoryCore,
  devices: CrudService<Device>,
  groups: CrudService<DeviceGroup>,
  groupDeviceIds: (actor: Actor, id: string) => Promise<string[]>,
) {
  return {
    async inventory(actor: Actor): Promise<AnsibleInventory> {
      requirePermission(actor, 'inventory:export');
      const tree = await core.repos.locationTree.all();
      const out: Record<string, GroupBody> = {};
      const hostvars: Record<string, Record<string, unknown>> = {};
      const add = (group: string, host: string) => ((out[group] ??= {}).hosts ??= []).push(host);
      const child = (parent: string, group: string) => {
        const c = ((out[parent] ??= {}).children ??= []);
        if (!c.includes(group)) c.push(group);
      };
      const nameById = new Map<string, string>();
      for (let cursor: string | undefined, first = true; first || cursor; first = false) {
        const page = await devices.list(actor, { limit: 1000, ...(cursor ? { cursor } : {}) });
        for (const d of page.items as Device[]) {
          nameById.set(d.id, d.name);
          hostvars[d.name] = {
            ansible_host: d.primary_ip4 ?? d.primary_ip6 ?? d.hostname ?? d.name,
            ...(networkOs(d.platform?.network_driver) ? { ansible_network_os: networkOs(d.platform?.network_driver) } : {}),
            opsdeck_id: d.id,
            platform: d.platform?.name ?? null,
            role: d.role?.name ?? null,
            location: d.location?.name ?? null,
            status: d.status.name,
            tags: d.tags,
            custom_fields: d.custom_fields,
          };
          let grouped = false;
          if (d.location) {
            const path = pathOf(tree, d.location.id).map((l) => groupName('location', l.name));
            path.forEach((g, i) => (i === 0 ? child('all', g) : child(path[i - 1]!, g)));
            add(path[path.length - 1] ?? groupName('location', d.location.name), d.name);
            grouped = true;
          }
          for (const [prefix, value] of [['role', d.role?.name], ['platform', d.platform?.name], ...d.tags.map((t) => ['tag', t])] as [
            string,
            string | undefined,
          ][]) {
            if (!value) continue;
            add(groupName(prefix, value), d.name);
            child('all', groupName(prefix, value));
            grouped = true;
          }
          if (!grouped) add('ungrouped', d.name);
        }
        cursor = page.next_cursor ?? undefined;
      }
      for (let cursor: string | undefined, first = true; first || cursor; first = false) {
        const page = await groups.list(actor, { limit: 1000, ...(cursor ? { cursor } : {}) });
        for (const g of page.items as DeviceGroup[]) {
          const hosts = (await groupDeviceIds(actor, g.id)).map((id) => nameById.get(id)).filter((n): n is string => n !== undefined);
          const name = groupName('group', g.name);
          (out[name] ??= {}).hosts = hosts.sort();
          child('all', name);
        }
        cursor = page.next_cursor ?? undefined;
      }
      if (out.ungrouped) child('all', 'ungrouped');
      return { ...out, all: out.all ?? { children: [] }, _meta: { hostvars } } as AnsibleInventory;
    },
  };
}
