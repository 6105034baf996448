/**
 * A 10,000-device import from the Nautobot and NetBox contract fakes (test/fakes/sot-fake.ts)
 * through the integrations sync (paged REST reads, the plan, inventory bulk writes, mappings),
 * on SQLite in-process. Prints objects/s and peak memory, and the ratio to the peer: the same
 * 10,000 devices written straight through the inventory's bulk create (the floor of any import).
 */
import { createTestServer } from '../test/helpers/server.js';
import { startSotFake, type Dialect } from '../test/fakes/sot-fake.js';
import { SYSTEM_ACTOR } from '../src/platform/http/auth.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 10_000);

function peakMemory() {
  let rss = process.memoryUsage().rss;
  let heap = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  }, 20);
  return () => (clearInterval(timer), { rssMb: Math.round(rss / 1048576), heapMb: Math.round(heap / 1048576) });
}

async function run(system: Dialect): Promise<void> {
  const fake = await startSotFake(system);
  const site = fake.add(system === 'nautobot' ? 'dcim/locations' : 'dcim/sites', { name: 'DC1' });
  const platform = fake.add('dcim/platforms', { name: 'ios', network_driver: 'cisco_ios' });
  const role = fake.add(system === 'nautobot' ? 'extras/roles' : 'dcim/device-roles', { name: 'edge', content_types: ['dcim.device'] });
  const status = system === 'nautobot' ? { id: fake.add('extras/statuses', { name: 'Active', content_types: ['dcim.device'] }).id } : 'active';
  for (let i = 0; i < DEVICES; i++) {
    fake.add('dcim/devices', {
      name: `sw-${i}`,
      serial: `SN${i}`,
      status,
      role: { id: role.id },
      platform: { id: platform.id },
      [system === 'nautobot' ? 'location' : 'site']: { id: site.id },
    });
  }
  const key = system.toUpperCase();
  const server = await createTestServer('sqlite', {
    env: { OPSDECK_ROLES: 'api', OPSDECK_EGRESS_ALLOW_INTERNAL: '127.0.0.1/32', [`OPSDECK_${key}_URL`]: fake.url, [`OPSDECK_${key}_TOKEN`]: fake.token },
  });
  const peer = await createTestServer('sqlite', { env: { OPSDECK_ROLES: 'api' } });
  try {
    const stop = peakMemory();
    const t0 = performance.now();
    const report = await server.modules.integrations.sync.importFrom(SYSTEM_ACTOR, system, { dry_run: false });
    const seconds = (performance.now() - t0) / 1000;
    const mem = stop();
    if (report.counts.devices.create !== DEVICES || fake.violations.length > 0) {
      throw new Error(`bad import: ${JSON.stringify(report.counts)} ${fake.violations[0] ?? ''}`);
    }
    const again = await server.modules.integrations.sync.importFrom(SYSTEM_ACTOR, system, { dry_run: true });
    const p0 = performance.now();
    const devices = peer.modules.inventory.services.devices;
    for (let i = 0; i < DEVICES; i += 500) {
      await devices.bulkCreate(
        SYSTEM_ACTOR,
        Array.from({ length: Math.min(500, DEVICES - i) }, (_, j) => ({ name: `sw-${i + j}`, serial: `SN${i + j}` })),
      );
    }
    const peerSeconds = (performance.now() - p0) / 1000;
    console.log(
      JSON.stringify({
        system,
        devices: DEVICES,
        import_seconds: Number(seconds.toFixed(2)),
        objects_per_second: Math.round(DEVICES / seconds),
        peak_rss_mb: mem.rssMb,
        peak_heap_mb: mem.heapMb,
        rerun_unchanged: again.counts.devices.unchanged,
        peer_bulk_create_seconds: Number(peerSeconds.toFixed(2)),
        ratio_import_to_bulk_create: Number((seconds / peerSeconds).toFixed(2)),
      }),
    );
  } finally {
    await server.close();
    await peer.close();
    await fake.close();
  }
}

for (const system of ['nautobot', 'netbox'] as const) await run(system);
