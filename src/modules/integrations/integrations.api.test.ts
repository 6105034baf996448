import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer } from '../../../test/helpers/server.js';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';
import { startSotFake, type SotFake } from '../../../test/fakes/sot-fake.js';

type Json = Record<string, any>;

describe.each(DIALECTS)('/api/v1/integrations on %s', (dialect) => {
  describe.each(['nautobot', 'netbox'] as const)('%s', (system) => {
    const server = useTestServer(dialect, { env: { OPSDECK_ROLES: 'api,worker', OPSDECK_EGRESS_ALLOW_INTERNAL: '127.0.0.1/32' } });
    let auth: Record<string, string>;
    let fake: SotFake;
    let credentialId: string;
    const nb = system === 'netbox';
    const sites = nb ? 'dcim/sites' : 'dcim/locations';
    const roles = nb ? 'dcim/device-roles' : 'extras/roles';
    const ids: Record<string, string> = {};
    const api = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers = auth) =>
      server().app.inject({ method, url: `/api/v1${url}`, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
    const at = `/integrations/${system}`;

    async function waitRun(id: string): Promise<Json> {
      let run: Json = {};
      await vi.waitFor(
        async () => {
          run = (await api('GET', `/jobs/runs/${id}`)).json();
          expect(['queued', 'running']).not.toContain(run.status);
        },
        { timeout: 30_000, interval: 100 },
      );
      return run;
    }

    beforeAll(async () => {
      auth = bearer(await adminToken(server()));
      fake = await startSotFake(system);
      const dc = fake.add(sites, { name: `DC1-${dialect}`, description: 'main site' });
      ids.dc = String(dc.id);
      if (!nb) {
        ids.room = String(fake.add('dcim/locations', { name: `Room1-${dialect}`, parent: { id: dc.id } }).id);
        ids.active = String(fake.add('extras/statuses', { name: 'Active', content_types: ['dcim.device'] }).id);
        ids.namespace = String(fake.add('ipam/namespaces', { name: 'Global' }).id);
        ids.type = String(fake.add('dcim/device-types', { model: 'C9300' }).id);
      } else ids.type = '1';
      ids.platform = String(fake.add('dcim/platforms', { name: `ios-${dialect}`, network_driver: 'cisco_ios' }).id);
      ids.role = String(fake.add(roles, { name: `edge-${dialect}`, content_types: ['dcim.device'] }).id);
      for (const [i, name] of ['r1', 'r2', 'r3'].entries()) {
        const ip = fake.add('ipam/ip-addresses', { address: `192.0.2.${i + 1}/24` });
        const loc = nb ? { site: { id: dc.id } } : { location: { id: i === 2 ? ids.room : ids.dc } };
        ids[name] = String(
          fake.add('dcim/devices', {
            name: `${name}-${system}-${dialect}`,
            serial: `SN${i}`,
            status: nb ? 'active' : { id: ids.active },
            role: { id: ids.role },
            platform: { id: ids.platform },
            primary_ip4: { id: ip.id },
            ...loc,
          }).id,
        );
      }
      const cred = await api('POST', '/credentials', { name: `${system}-token-${dialect}`, type: 'api_token', token: fake.token });
      expect(cred.statusCode, cred.body).toBe(201);
      credentialId = cred.json().id;
      // Tests run in random order: each finds the connection saved (the connection test removes and saves it again).
      expect((await api('PUT', at, { url: fake.url, credential_id: credentialId })).statusCode).toBe(200);
    });
    afterAll(() => fake?.close());
    afterEach(() => expect(fake.violations).toEqual([]));

    it('tests a connection before saving it, refuses one that fails, and never serves the token', async () => {
      expect((await api('DELETE', at)).statusCode).toBe(204);
      expect((await api('GET', at)).json()).toMatchObject({ status: 404, code: 'INTEGRATION_NOT_CONFIGURED' });
      const tried = await api('POST', `${at}/test`, { url: fake.url, credential_id: credentialId });
      expect(tried.statusCode, tried.body).toBe(200);
      expect(tried.json()).toEqual({ ok: true, reachable: true, token_valid: true, api_version: nb ? '4.2.2' : '3.1.8', detail: null });
      const wrong = await api('POST', '/credentials', { name: `${system}-wrong-${dialect}`, type: 'api_token', token: 'not-the-token-0001' });
      const refused = await api('PUT', at, { url: fake.url, credential_id: wrong.json().id });
      expect(refused.statusCode).toBe(422);
      expect(refused.json()).toMatchObject({ code: 'INTEGRATION_TEST_FAILED' });
      expect(refused.body).not.toContain('not-the-token-0001');
      expect((await api('GET', at)).statusCode).toBe(404);
      const basic = await api('POST', '/credentials', { name: `${system}-basic-${dialect}`, type: 'basic', username: 'u', password: 'p-secret-1' });
      expect((await api('PUT', at, { url: fake.url, credential_id: basic.json().id })).json()).toMatchObject({
        status: 422,
        code: 'INTEGRATION_CREDENTIAL_TYPE',
      });
      const saved = await api('PUT', at, { url: fake.url, credential_id: credentialId, timeout_ms: 5000 });
      expect(saved.statusCode, saved.body).toBe(200);
      expect(saved.json()).toMatchObject({
        system,
        url: fake.url,
        credential_id: credentialId,
        timeout_ms: 5000,
        verify_tls: true,
        ca_cert_set: false,
        api_version: nb ? '4.2.2' : '3.1.8',
        source: 'database',
      });
      expect((await api('GET', at)).json()).toEqual(saved.json());
      expect(JSON.stringify((await api('GET', at)).json())).not.toContain(fake.token);
    });

    it('lists, filters and details devices with names resolved from the nested references', async () => {
      const all = (await api('GET', `${at}/devices?name=r1-${system}-${dialect}`)).json();
      expect(all.count).toBe(1);
      expect(all.items[0]).toEqual({
        id: ids.r1,
        name: `r1-${system}-${dialect}`,
        serial: 'SN0',
        asset_tag: null,
        status: nb ? 'active' : 'Active',
        role: `edge-${dialect}`,
        location: `DC1-${dialect}`,
        platform: `ios-${dialect}`,
        primary_ip4: '192.0.2.1',
        url: expect.stringContaining(`/api/dcim/devices/${ids.r1}/`),
      });
      const paged = (await api('GET', `${at}/devices?limit=2`)).json();
      expect([paged.items.length, paged.next_offset]).toEqual([2, 2]);
      const filtered = (await api('GET', `${at}/devices?name=r2-${system}-${dialect}`)).json();
      expect(filtered.items.map((d: Json) => d.id)).toEqual([ids.r2]);
      const detail = await api('GET', `${at}/devices/${ids.r1}`);
      expect(detail.statusCode, detail.body).toBe(200);
      expect(detail.json()).toMatchObject({ id: ids.r1, interfaces: [], ip_addresses: [] });
      expect((await api('GET', `${at}/devices/${nb ? 999999 : crypto.randomUUID()}`)).json()).toMatchObject({
        status: 404,
        code: 'INTEGRATION_OBJECT_NOT_FOUND',
      });
    });

    it('serves locations as a hierarchy and the reference lists (statuses and namespaces where the system has them)', async () => {
      const locations = (await api('GET', `${at}/locations`)).json().items;
      expect(locations).toEqual(
        nb
          ? [{ id: ids.dc, name: `DC1-${dialect}`, parent_id: null, description: 'main site', depth: 0 }]
          : [
              { id: ids.dc, name: `DC1-${dialect}`, parent_id: null, description: 'main site', depth: 0 },
              { id: ids.room, name: `Room1-${dialect}`, parent_id: ids.dc, description: '', depth: 1 },
            ],
      );
      expect((await api('GET', `${at}/platforms`)).json().items).toEqual([{ id: ids.platform, name: `ios-${dialect}`, network_driver: 'cisco_ios' }]);
      expect((await api('GET', `${at}/roles`)).json().items).toEqual([{ id: ids.role, name: `edge-${dialect}` }]);
      const statuses = (await api('GET', `${at}/statuses`)).json().items.map((s: Json) => s.name);
      expect(statuses).toEqual(nb ? ['offline', 'active', 'planned', 'staged', 'failed', 'inventory', 'decommissioning'] : ['Active']);
      const ns = await api('GET', `${at}/namespaces`);
      if (nb) expect(ns.json()).toMatchObject({ status: 404, code: 'INTEGRATION_NOT_SUPPORTED' });
      else expect(ns.json().items).toEqual([{ id: ids.namespace, name: 'Global' }]);
      expect((await api('GET', `${at}/check-ip?address=192.0.2.2`)).json()).toMatchObject({
        address: '192.0.2.2',
        exists: true,
        ip_address: { address: '192.0.2.2/24' },
      });
      expect((await api('GET', `${at}/check-ip?address=198.51.100.9`)).json()).toEqual({ address: '198.51.100.9', exists: false, ip_address: null });
    });

    it('onboards a device in order (device, interface, address, primary IP) and rolls back what it created when a step fails', async () => {
      const body = {
        name: `new-${dialect}`,
        location: ids.dc,
        role: ids.role,
        device_type: ids.type,
        platform: ids.platform,
        interface: { name: 'Mgmt0' },
        ip_address: '198.51.100.10/24',
      };
      const ok = await api('POST', `${at}/onboarding`, body);
      expect(ok.statusCode, ok.body).toBe(201);
      const { device_id: deviceId, interface_id: ifaceId, ip_address_id: ipId } = ok.json();
      const device = fake.all('dcim/devices').find((d) => String(d.id) === deviceId)!;
      expect((device.primary_ip4 as Json).id).toEqual(nb ? Number(ipId) : ipId);
      const writes = fake.requests
        .filter((r) => r.method !== 'GET')
        .map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}|\/\d+\//g, (m) => (m.startsWith('/') ? '/{id}/' : '{id}'))}`);
      expect(writes.slice(-(nb ? 4 : 5))).toEqual([
        'POST /api/dcim/devices/',
        'POST /api/dcim/interfaces/',
        'POST /api/ipam/ip-addresses/',
        ...(nb ? [] : ['POST /api/ipam/ip-address-to-interface/']),
        'PATCH /api/dcim/devices/{id}/',
      ]);
      expect(fake.all('dcim/interfaces').find((i) => String(i.id) === ifaceId)).toMatchObject({ name: 'Mgmt0', mgmt_only: true });

      const before = { devices: fake.all('dcim/devices').length, interfaces: fake.all('dcim/interfaces').length, ips: fake.all('ipam/ip-addresses').length };
      fake.inject('POST', '/api/ipam/ip-addresses/', [{ status: 400, body: { address: ['Duplicate IP address found in global table: 198.51.100.11/24'] } }]);
      const failed = await api('POST', `${at}/onboarding`, { ...body, name: `bad-${dialect}`, ip_address: '198.51.100.11/24' });
      expect(failed.statusCode).toBe(422);
      expect(failed.json()).toMatchObject({ code: 'INTEGRATION_ONBOARDING_FAILED' });
      expect(failed.json().detail).toMatch(/step "ip_address" failed .*Duplicate IP address.*rolled back: interface, device/);
      expect({ devices: fake.all('dcim/devices').length, interfaces: fake.all('dcim/interfaces').length, ips: fake.all('ipam/ip-addresses').length }).toEqual(
        before,
      );
    });

    it('previews an import as a dry-run diff, applies it as a job run, then reports updates, ownership conflicts and deletes', async () => {
      // r2 has an uplink with an address assigned to it (NetBox: assigned_object; Nautobot: an IP-to-interface object).
      const gi = fake.add('dcim/interfaces', {
        device: { id: ids.r2 },
        name: 'Gi0/1',
        type: { value: '1000base-t', label: '1000BASE-T' },
        enabled: true,
        mtu: 1500,
        mac_address: '00:11:22:AA:BB:CC',
        description: 'uplink',
      });
      const addr = fake.add('ipam/ip-addresses', {
        address: '203.0.113.5/24',
        dns_name: 'r2.example',
        ...(nb ? { assigned_object_type: 'dcim.interface', assigned_object_id: gi.id } : {}),
      });
      if (!nb) fake.add('ipam/ip-address-to-interface', { ip_address: { id: addr.id }, interface: { id: gi.id } });
      const [giId, addrId] = [String(gi.id), String(addr.id)];
      const preview = await api('POST', `${at}/sync/preview`, {});
      expect(preview.statusCode, preview.body).toBe(200);
      const plan = preview.json();
      expect(plan).toMatchObject({ system, direction: 'import', dry_run: true, conflicts: [], conflicts_total: 0 });
      const remoteDevices = fake.all('dcim/devices').length;
      expect(plan.counts.devices).toEqual({ create: remoteDevices, update: 0, delete: 0, unchanged: 0 });
      expect(plan.changes).toContainEqual({
        kind: 'device',
        action: 'create',
        name: `r1-${system}-${dialect}`,
        external_id: ids.r1,
        local_id: null,
        changes: expect.arrayContaining([
          { field: 'serial', from: null, to: 'SN0' },
          { field: 'primary_ip4', from: null, to: '192.0.2.1' },
        ]),
      });
      expect(plan.changes).toContainEqual(expect.objectContaining({ kind: 'location', action: 'create', name: `DC1-${dialect}` }));
      expect((await api('GET', `/devices?q=r1-${system}-${dialect}`)).json().items).toEqual([]);
      expect(plan.counts.interfaces).toEqual({ create: fake.all('dcim/interfaces').length, update: 0, delete: 0, unchanged: 0 });
      expect(plan.counts.ip_addresses).toEqual({ create: fake.all('ipam/ip-addresses').length, update: 0, delete: 0, unchanged: 0 });
      expect(plan.changes).toContainEqual({
        kind: 'interface',
        action: 'create',
        name: `r2-${system}-${dialect} Gi0/1`,
        external_id: giId,
        local_id: null,
        changes: [
          { field: 'name', from: null, to: 'Gi0/1' },
          { field: 'type', from: null, to: '1000base-t' },
          { field: 'enabled', from: null, to: 'true' },
          { field: 'mtu', from: null, to: '1500' },
          { field: 'mac_address', from: null, to: '00:11:22:aa:bb:cc' },
          { field: 'description', from: null, to: 'uplink' },
        ],
      });
      // The interface does not exist locally yet: the address names the one the plan creates.
      expect(plan.changes).toContainEqual({
        kind: 'ip_address',
        action: 'create',
        name: '203.0.113.5/24',
        external_id: addrId,
        local_id: null,
        changes: [
          { field: 'address', from: null, to: '203.0.113.5/24' },
          { field: 'interface', from: null, to: `new:${giId}` },
          { field: 'dns_name', from: null, to: 'r2.example' },
          { field: 'description', from: null, to: '' },
        ],
      });
      expect((await api('GET', '/ip-addresses?host=203.0.113.5')).json().items).toEqual([]);

      const started = await api('POST', `${at}/sync`, {});
      expect(started.statusCode, started.body).toBe(202);
      const run = await waitRun(started.json().run_id);
      expect(run.status, JSON.stringify(run)).toBe('succeeded');
      const local = (await api('GET', `/devices?q=r1-${system}-${dialect}`)).json().items[0];
      expect(local).toMatchObject({
        name: `r1-${system}-${dialect}`,
        serial: 'SN0',
        primary_ip4: '192.0.2.1',
        source: system,
        external_id: ids.r1,
        platform: { name: `ios-${dialect}` },
        role: { name: `edge-${dialect}` },
        location: { name: `DC1-${dialect}` },
        status: { name: 'active' },
      });
      if (!nb) expect((await api('GET', `/devices?q=r3-${system}-${dialect}`)).json().items[0].location.name).toBe(`Room1-${dialect}`);
      if (!nb) expect((await api('GET', `/locations?q=Room1-${dialect}`)).json().items[0].parent).toMatchObject({ name: `DC1-${dialect}` });
      const uplink = (await api('GET', `/interfaces?device=r2-${system}-${dialect}&name=Gi0/1`)).json().items;
      expect(uplink).toMatchObject([
        {
          name: 'Gi0/1',
          type: '1000base-t',
          enabled: true,
          mtu: 1500,
          mac_address: '00:11:22:aa:bb:cc',
          description: 'uplink',
          device: { name: `r2-${system}-${dialect}` },
        },
      ]);
      const address = (await api('GET', '/ip-addresses?host=203.0.113.5')).json().items;
      expect(address).toMatchObject([
        { address: '203.0.113.5/24', dns_name: 'r2.example', interface: { id: uplink[0].id, name: 'Gi0/1', device: { name: `r2-${system}-${dialect}` } } },
      ]);
      expect((await api('GET', '/ip-addresses?host=192.0.2.1')).json().items).toMatchObject([{ address: '192.0.2.1/24', interface: null }]);
      // A second run finds every interface and address mapped and unchanged.
      const again = (await api('POST', `${at}/sync/preview`, {})).json();
      expect([again.counts.interfaces, again.counts.ip_addresses]).toEqual([
        { create: 0, update: 0, delete: 0, unchanged: fake.all('dcim/interfaces').length },
        { create: 0, update: 0, delete: 0, unchanged: fake.all('ipam/ip-addresses').length },
      ]);

      // Upstream changes r1's serial; locally someone sets r2's serial, which Opsdeck is told to own; r3 goes away upstream.
      const remoteR1 = fake.all('dcim/devices').find((d) => String(d.id) === ids.r1)!;
      const remoteR3 = fake.all('dcim/devices').find((d) => String(d.id) === ids.r3)!;
      const r2 = (await api('GET', `/devices?q=r2-${system}-${dialect}`)).json().items[0];
      expect((await api('PATCH', `/devices/${r2.id}`, { serial: 'LOCAL-SN' })).statusCode).toBe(200);
      fake.remove('dcim/devices', ids.r3!);
      remoteR1.serial = 'SN0-NEW';
      gi.description = 'uplink to core';
      fake.all('ipam/ip-addresses').find((a) => String(a.id) === addrId)!.dns_name = 'r2-new.example';

      const diff = (
        await api('POST', `${at}/sync/preview`, { ownership: { serial: 'opsdeck' }, interface_ownership: { description: 'opsdeck' }, delete_missing: true })
      ).json();
      expect(diff.conflicts).toContainEqual({
        kind: 'interface',
        name: `r2-${system}-${dialect} Gi0/1`,
        external_id: giId,
        local_id: uplink[0].id,
        field: 'description',
        opsdeck: 'uplink',
        source: 'uplink to core',
        kept: 'opsdeck',
      });
      expect(diff.changes).toContainEqual({
        kind: 'ip_address',
        action: 'update',
        name: '203.0.113.5/24',
        external_id: addrId,
        local_id: address[0].id,
        changes: [{ field: 'dns_name', from: 'r2.example', to: 'r2-new.example' }],
      });
      expect(diff.counts.devices).toMatchObject({ create: 0, delete: 1 });
      expect(diff.conflicts).toEqual(
        expect.arrayContaining([
          {
            kind: 'device',
            name: `r2-${system}-${dialect}`,
            external_id: ids.r2,
            local_id: r2.id,
            field: 'serial',
            opsdeck: 'LOCAL-SN',
            source: 'SN1',
            kept: 'opsdeck',
          },
        ]),
      );
      expect(diff.changes).toContainEqual({
        kind: 'device',
        action: 'delete',
        name: `r3-${system}-${dialect}`,
        external_id: null,
        local_id: expect.any(String),
        changes: [],
      });
      const sourceWins = (await api('POST', `${at}/sync/preview`, {})).json();
      expect(sourceWins.changes).toContainEqual({
        kind: 'device',
        action: 'update',
        name: `r2-${system}-${dialect}`,
        external_id: ids.r2,
        local_id: r2.id,
        changes: [{ field: 'serial', from: 'LOCAL-SN', to: 'SN1' }],
      });
      expect(sourceWins.counts.devices.delete).toBe(0);
      expect(sourceWins.changes).toContainEqual({
        kind: 'interface',
        action: 'update',
        name: `r2-${system}-${dialect} Gi0/1`,
        external_id: giId,
        local_id: uplink[0].id,
        changes: [{ field: 'description', from: 'uplink', to: 'uplink to core' }],
      });

      const applied = await waitRun(
        (await api('POST', `${at}/sync`, { ownership: { serial: 'opsdeck' }, interface_ownership: { description: 'opsdeck' }, delete_missing: true })).json()
          .run_id,
      );
      expect(applied.status, JSON.stringify(applied)).toBe('succeeded');
      expect((await api('GET', `/devices/${r2.id}`)).json().serial).toBe('LOCAL-SN');
      expect((await api('GET', `/devices?q=r3-${system}-${dialect}`)).json().items).toEqual([]);
      // Opsdeck owns serials in that run: r1's upstream change is a conflict, not an update.
      expect((await api('GET', `/devices?q=r1-${system}-${dialect}`)).json().items[0].serial).toBe('SN0');
      expect((await api('GET', `/interfaces/${uplink[0].id}`)).json().description).toBe('uplink');
      expect((await api('GET', `/ip-addresses/${address[0].id}`)).json()).toMatchObject({ dns_name: 'r2-new.example', interface: { id: uplink[0].id } });
      // Other tests read r1 and r3 as seeded.
      remoteR1.serial = 'SN0';
      fake.restore('dcim/devices', remoteR3);
    });

    it('pushes Opsdeck devices out: a dry run writes nothing upstream, a push creates them with opsdeck_id, a second one patches only what Opsdeck owns', async () => {
      // Local reference data named as upstream (made here unless an import made it; what is made here is removed at the end).
      const made: string[] = [];
      for (const [path, name] of [
        ['/locations', `DC1-${dialect}`],
        ['/device-roles', `edge-${dialect}`],
        ['/platforms', `ios-${dialect}`],
      ] as const) {
        const r = await api('POST', path, { name });
        if (r.statusCode === 201) made.push(`${path}/${r.json().id}`);
      }
      const dev = await api('POST', '/devices', {
        name: `disc-${system}-${dialect}`,
        serial: 'D1',
        location: `DC1-${dialect}`,
        role: `edge-${dialect}`,
        platform: `ios-${dialect}`,
      });
      expect(dev.statusCode, dev.body).toBe(201);
      const orphan = (await api('POST', '/devices', { name: `orphan-${system}-${dialect}` })).json();
      const localId = dev.json().id as string;
      const body = { direction: 'push', device_ids: [localId, orphan.id], device_type: ids.type };
      const writes = () => fake.requests.filter((r) => r.method !== 'GET');
      const before = writes().length;

      const plan = (await api('POST', `${at}/sync/preview`, body)).json();
      expect(plan).toMatchObject({ system, direction: 'push', dry_run: true, counts: { devices: { create: 1, update: 0, delete: 0, unchanged: 0 } } });
      expect(plan.changes).toEqual([
        {
          kind: 'device',
          action: 'create',
          name: `disc-${system}-${dialect}`,
          external_id: null,
          local_id: localId,
          changes: expect.arrayContaining([
            { field: 'serial', from: null, to: 'D1' },
            { field: 'location', from: null, to: `DC1-${dialect}` },
          ]),
        },
      ]);
      expect(plan.skipped).toEqual([
        { name: `orphan-${system}-${dialect}`, local_id: orphan.id, reason: expect.stringMatching(/^location, role.* required to create it/) },
      ]);
      expect(writes().length).toBe(before);

      const run = await waitRun((await api('POST', `${at}/sync`, body)).json().run_id);
      expect(run.status, JSON.stringify(run)).toBe('succeeded');
      expect(
        writes()
          .map((r) => `${r.method} ${r.path}`)
          .slice(before),
      ).toEqual(['POST /api/dcim/devices/']);
      const remote = fake.all('dcim/devices').find((d) => d.name === `disc-${system}-${dialect}`)!;
      expect(remote).toMatchObject({
        serial: 'D1',
        custom_fields: { opsdeck_id: localId },
        role: { id: nb ? Number(ids.role) : ids.role },
        platform: { id: nb ? Number(ids.platform) : ids.platform },
        [nb ? 'site' : 'location']: { id: nb ? Number(ids.dc) : ids.dc },
      });
      expect((await api('GET', `/devices/${localId}`)).json()).toMatchObject({ source: system, external_id: String(remote.id) });

      // Nothing changed: a second push writes nothing; then Opsdeck owns the serial and changes it: only that field is patched.
      const again = await waitRun((await api('POST', `${at}/sync`, body)).json().run_id);
      expect(again.status).toBe('succeeded');
      expect(writes().length).toBe(before + 1);
      expect((await api('PATCH', `/devices/${localId}`, { serial: 'D2' })).statusCode).toBe(200);
      const owned = (await api('POST', `${at}/sync/preview`, { ...body, ownership: { serial: 'opsdeck' } })).json();
      expect(owned.changes).toEqual([
        {
          kind: 'device',
          action: 'update',
          name: `disc-${system}-${dialect}`,
          external_id: String(remote.id),
          local_id: localId,
          changes: [{ field: 'serial', from: 'D1', to: 'D2' }],
        },
      ]);
      expect(writes().length).toBe(before + 1);
      expect((await waitRun((await api('POST', `${at}/sync`, { ...body, ownership: { serial: 'opsdeck' } })).json().run_id)).status).toBe('succeeded');
      expect(
        writes()
          .slice(before + 1)
          .map((r) => [r.method, r.path, r.body]),
      ).toEqual([['PATCH', `/api/dcim/devices/${String(remote.id)}/`, { serial: 'D2', custom_fields: { opsdeck_id: localId } }]]);
      expect(fake.all('dcim/devices').find((d) => d.id === remote.id)!.serial).toBe('D2');

      // Other tests count remote devices and local reference data as seeded.
      fake.remove('dcim/devices', String(remote.id));
      for (const id of [localId, orphan.id]) expect((await api('DELETE', `/devices/${id}`)).statusCode).toBe(204);
      for (const path of made) expect((await api('DELETE', path)).statusCode).toBe(204);
    });

    it('runs as a schedule of an integration_sync job template (a dry run here, so other tests see no writes)', async () => {
      const template = await api('POST', '/jobs/templates', { name: `${system}-sync-${dialect}`, type: 'integration_sync', params: { system, dry_run: true } });
      expect(template.statusCode, template.body).toBe(201);
      const schedule = await api('POST', '/schedules', {
        name: `${system}-nightly-${dialect}`,
        template_id: template.json().id,
        kind: 'cron',
        cron: '0 2 * * *',
        timezone: 'UTC',
      });
      expect(schedule.statusCode, schedule.body).toBe(201);
      const fired = await api('POST', `/schedules/${schedule.json().id}/trigger`);
      expect(fired.statusCode, fired.body).toBe(202);
      const run = await waitRun(fired.json().run_id);
      expect(run, JSON.stringify(run)).toMatchObject({ status: 'succeeded', trigger: { kind: 'schedule', id: schedule.json().id } });
      const results = (await api('GET', `/jobs/runs/${run.id}/output`)).json();
      expect(JSON.stringify(results)).toContain('"dry_run":true');
    });

    it('keeps integrations to their permissions: a viewer reads but cannot save, onboard or sync', async () => {
      const viewer = bearer((await loginAs(server(), 'viewer')).token);
      expect((await api('GET', at, undefined, viewer)).statusCode).toBe(200);
      expect((await api('PUT', at, { url: fake.url, credential_id: credentialId }, viewer)).statusCode).toBe(403);
      expect((await api('POST', `${at}/sync/preview`, {}, viewer)).statusCode).toBe(403);
      expect(
        (
          await api(
            'POST',
            `${at}/onboarding`,
            { name: 'x', location: ids.dc, role: ids.role, device_type: ids.type, interface: { name: 'm' }, ip_address: '10.0.0.1/24' },
            viewer,
          )
        ).statusCode,
      ).toBe(403);
    });
  });
});
