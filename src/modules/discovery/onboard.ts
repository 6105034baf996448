import type { Actor } from '../../platform/http/auth.js';
import type { InventoryServices } from '../inventory/index.js';
import { discoveredFields } from './compare.fns.js';
import type { HostView, OnboardReport } from './discovery.schemas.js';

type Row = Record<string, unknown> & { id: string; name: string };
interface DeviceWithInterfaces extends Row {
  interfaces?: { id: string; name: string }[];
}

/** Device body fields for a host: what was discovered, then the reviewer's edits. */
function deviceFields(h: HostView): Record<string, unknown> {
  const { name: _name, ...edits } = h.edits;
  return { ...discoveredFields(h), ...edits };
}

/**
 * Onboards reviewed hosts through the inventory services (each write audited there): one bulk
 * create and one bulk update of devices, then missing interfaces and their IPs, then the
 * LLDP/CDP links whose both ends exist. A dry run answers the plan only.
 */
export async function onboardHosts(inventory: InventoryServices, actor: Actor, hosts: readonly HostView[], dryRun: boolean): Promise<OnboardReport> {
  const plan = hosts.map((h) => {
    const fields = deviceFields(h);
    const name = h.edits.name ?? h.facts.hostname ?? h.address;
    if (!h.device_id) return { h, action: 'create' as const, name, fields: { name, ...fields, source: 'discovery' } };
    const changed = Object.fromEntries(h.changes.map((c) => [c.field, c.discovered]));
    const edited = { ...changed, ...Object.fromEntries(Object.entries(fields).filter(([k]) => k in h.edits)), ...(h.edits.name ? { name: h.edits.name } : {}) };
    return { h, action: Object.keys(edited).length > 0 ? ('update' as const) : ('unchanged' as const), name, fields: edited };
  });
  const report: OnboardReport = {
    dry_run: dryRun,
    devices: plan.map((p) => ({ address: p.h.address, action: p.action, device_id: p.h.device_id, name: p.name, fields: p.fields })),
    interfaces_created: 0,
    ip_addresses_created: 0,
    links_created: 0,
  };
  if (dryRun) return report;
  const creates = plan.filter((p) => p.action === 'create');
  const created =
    creates.length > 0
      ? (
          await inventory.devices.bulkCreate(
            actor,
            creates.map((p) => p.fields),
          )
        ).items
      : [];
  creates.forEach((p, i) => (report.devices.find((d) => d.address === p.h.address)!.device_id = (created[i] as unknown as Row).id));
  const updates = plan.filter((p) => p.action === 'update');
  if (updates.length > 0) {
    await inventory.devices.bulkUpdate(
      actor,
      updates.map((p) => ({ id: p.h.device_id!, ...p.fields })),
    );
  }

  // Interfaces each device lacks: from `show ip interface brief` and the local ends of neighbours.
  const deviceOf = new Map(report.devices.map((d) => [d.address, d.device_id!]));
  const ifaceIds = new Map<string, Map<string, string>>();
  const interfacesOf = async (deviceId: string) => {
    let m = ifaceIds.get(deviceId);
    if (!m) {
      const d = (await inventory.devices.get(actor, deviceId, { include: 'interfaces' })) as unknown as DeviceWithInterfaces;
      ifaceIds.set(deviceId, (m = new Map((d.interfaces ?? []).map((i) => [i.name, i.id]))));
    }
    return m;
  };
  const ensureInterfaces = async (deviceId: string, names: string[]) => {
    const have = await interfacesOf(deviceId);
    const missing = [...new Set(names)].filter((n) => !have.has(n));
    if (missing.length === 0) return;
    const made = (
      await inventory.interfaces.bulkCreate(
        actor,
        missing.map((name) => ({ device: deviceId, name })),
      )
    ).items as unknown as Row[];
    made.forEach((i) => have.set(i.name, i.id));
    report.interfaces_created += made.length;
  };
  for (const p of plan) {
    const deviceId = deviceOf.get(p.h.address)!;
    await ensureInterfaces(deviceId, [...p.h.interfaces.map((i) => i.name), ...p.h.neighbours.map((n) => n.local_interface)]);
    if (p.action !== 'create') continue;
    const have = await interfacesOf(deviceId);
    const ips = p.h.interfaces.filter((i) => i.address).map((i) => ({ address: `${i.address}/32`, interface: have.get(i.name)! }));
    if (ips.length > 0) report.ip_addresses_created += (await inventory.ipAddresses.bulkCreate(actor, ips)).items.length;
  }

  // Links: a neighbour is a device by name (onboarded now or already known); its port becomes an interface.
  const seen = new Set<string>();
  for (const p of plan) {
    const deviceId = deviceOf.get(p.h.address)!;
    for (const n of p.h.neighbours) {
      const remote = (await inventory.devices.list(actor, { name: [n.name], limit: 1 })).items[0] as unknown as Row | undefined;
      if (!remote) continue;
      await ensureInterfaces(remote.id, [n.port]);
      const a = (await interfacesOf(deviceId)).get(n.local_interface)!;
      const b = (await interfacesOf(remote.id)).get(n.port)!;
      const key = [a, b].sort().join('|');
      if (seen.has(key)) continue;
      seen.add(key);
      const existing = await inventory.links.list(actor, { device: [remote.name], limit: 1000 });
      const linked = (existing.items as unknown as { a: { interface: { id: string } }; b: { interface: { id: string } } }[]).some(
        (l) => [l.a.interface.id, l.b.interface.id].sort().join('|') === key,
      );
      if (linked) continue;
      await inventory.links.create(actor, { a_interface: a, b_interface: b, kind: n.protocol, description: `discovered by ${n.protocol.toUpperCase()}` });
      report.links_created++;
    }
  }
  return report;
}
