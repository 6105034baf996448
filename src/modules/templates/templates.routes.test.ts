import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';
import { useTestServer } from '../../../test/helpers/server.js';

describe.each(DIALECTS)('templates HTTP API on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_TEMPLATE_RENDER_TIMEOUT_MS: '1000' } });
  let token = '';
  beforeAll(async () => {
    token = await adminToken(server());
  });
  const inject = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, as = token) =>
    server().app.inject({ method, url, headers: bearer(as), ...(payload ? { payload } : {}) });
  const create = async (body: Record<string, unknown>) => {
    const res = await inject('POST', '/api/v1/templates', body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; version: number; name: string };
  };
  const uniq = (p: string) => `${p}-${Math.random().toString(36).slice(2, 8)}`;

  it('creates, versions, diffs and restores a template', async () => {
    const t = await create({ name: uniq('ntp'), content: 'ntp server {{ ntp }}\n', category: 'base', tags: ['ios'], notes: 'first' });
    expect(t).toMatchObject({ version: 1, type: 'jinja2', source: 'webeditor', active: true, category: 'base', tags: ['ios'] });
    const v2 = await inject('PATCH', `/api/v1/templates/${t.id}`, { content: 'ntp server {{ ntp }} prefer\n', notes: 'prefer' });
    expect(v2.json()).toMatchObject({ version: 2, content: 'ntp server {{ ntp }} prefer\n' });
    const sameContent = await inject('PATCH', `/api/v1/templates/${t.id}`, { description: 'NTP' });
    expect(sameContent.json().version).toBe(2);

    const versions = (await inject('GET', `/api/v1/templates/${t.id}/versions`)).json();
    expect(versions.items.map((v: { version: number; notes: string }) => [v.version, v.notes])).toEqual([
      [2, 'prefer'],
      [1, 'first'],
    ]);
    expect(versions.items[1].content_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(versions.items[1].author.name).toBe('admin');
    expect((await inject('GET', `/api/v1/templates/${t.id}/versions/1`)).json().content).toBe('ntp server {{ ntp }}\n');

    const diff = (await inject('GET', `/api/v1/templates/${t.id}/diff?from=1&to=2`)).json();
    expect(diff.diff).toContain('-ntp server {{ ntp }}\n+ntp server {{ ntp }} prefer');

    const restored = await inject('POST', `/api/v1/templates/${t.id}/versions/1/restore`, {});
    expect(restored.json()).toMatchObject({ version: 3, content: 'ntp server {{ ntp }}\n' });
    expect((await inject('GET', `/api/v1/templates/${t.id}/versions/3`)).json().notes).toBe('Restored version 1');
    expect((await inject('GET', `/api/v1/templates/${t.id}/versions/9`)).statusCode).toBe(404);
  });

  it('adds a template from an uploaded file (raw body), typed by its extension, and refuses what is not a UTF-8 template', async () => {
    const upload = (query: string, body: string | Buffer, contentType = 'text/plain', as = token) =>
      server().app.inject({ method: 'POST', url: `/api/v1/templates/upload?${query}`, headers: { ...bearer(as), 'content-type': contentType }, payload: body });
    const stem = uniq('snmp');
    const res = await upload(`filename=${stem}.j2&category=base&notes=from%20disk`, '\uFEFFsnmp-server community {{ community }} RO\n');
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      name: stem,
      type: 'jinja2',
      source: 'file',
      source_path: `${stem}.j2`,
      category: 'base',
      version: 1,
      content: 'snmp-server community {{ community }} RO\n',
    });
    const rendered = await inject('POST', `/api/v1/templates/${res.json().id}/render`, { variables: { community: 'c1' } });
    expect(rendered.json().output).toBe('snmp-server community c1 RO\n');
    const yaml = await upload(`filename=vars.yml&name=${uniq('vars')}`, Buffer.from('a: 1\n'), 'application/octet-stream');
    expect(yaml.json()).toMatchObject({ type: 'yaml', source_path: 'vars.yml' });

    const name = uniq('broken');
    const syntax = await upload(`filename=x.j2&name=${name}`, '{% for x in y %}\n');
    expect(syntax.statusCode).toBe(422);
    expect(syntax.json().errors[0].path).toBe('body.content');
    const binary = await upload(`filename=x.j2&name=${name}`, Buffer.from([0xff, 0xfe, 0x00, 0x41]), 'application/octet-stream');
    expect(binary.statusCode).toBe(422);
    expect(binary.json().errors[0].path).toBe('body');
    expect((await upload(`filename=x.j2&name=${name}`, '')).json().errors[0].path).toBe('body');
    expect((await upload(`filename=a%2Fb.j2&name=${name}`, 'x')).statusCode).toBe(400);
    expect((await upload(`name=${name}`, 'x')).statusCode).toBe(400);
    expect((await inject('GET', `/api/v1/templates?q=${name}`)).json().items).toEqual([]);
    const viewer = await loginAs(server(), 'viewer');
    expect((await upload(`filename=v.j2&name=${name}`, 'x', 'text/plain', viewer.token)).statusCode).toBe(403);
  });

  it('checks syntax on save with line and column, and changes nothing', async () => {
    const name = uniq('bad');
    const res = await inject('POST', '/api/v1/templates', { name, content: 'a\n{% for x in y %}\n{{ x }\n' });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'TEMPLATE_SYNTAX_ERROR' });
    expect(res.json().errors[0]).toMatchObject({ path: 'body.content' });
    expect(res.json().errors[0].message).toMatch(/^line 3, column \d+: /);
    expect((await inject('GET', `/api/v1/templates?q=${name}`)).json().items).toEqual([]);
    const unknownFilter = await inject('POST', '/api/v1/templates', { name, content: '{{ x | nosuchfilter }}' });
    expect(unknownFilter.statusCode).toBe(422);
  });

  it('keeps names unique among active templates', async () => {
    const name = uniq('dup');
    const a = await create({ name, content: 'a' });
    expect((await inject('POST', '/api/v1/templates', { name, content: 'b' })).statusCode).toBe(409);
    await inject('PATCH', `/api/v1/templates/${a.id}`, { active: false });
    await create({ name, content: 'b' });
    expect((await inject('PATCH', `/api/v1/templates/${a.id}`, { active: true })).statusCode).toBe(409);
  });

  it('proposes a JSON Schema from use and enforces the stored one at render', async () => {
    const content =
      '{% for i in interfaces %}interface {{ i.name }}\n{% if i.vlan is defined %} vlan {{ i.vlan }}{% endif %}{% endfor %}hostname {{ device.name }}\n{{ banner | default("") }}';
    const t = await create({ name: uniq('vars'), content });
    const vars = (await inject('GET', `/api/v1/templates/${t.id}/variables`)).json();
    expect(vars.variables).toEqual(['interfaces', 'device', 'banner']);
    expect(vars.proposed_schema).toEqual({
      type: 'object',
      properties: {
        interfaces: { type: 'array', items: { type: 'object', properties: { name: {}, vlan: {} } } },
        device: { type: 'object', properties: { name: {} } },
        banner: {},
      },
      required: ['interfaces', 'device'],
    });
    const schema = {
      ...vars.proposed_schema,
      properties: {
        ...vars.proposed_schema.properties,
        device: { type: 'object', properties: { name: { type: 'string', pattern: '^[a-z]' } }, required: ['name'] },
      },
    };
    expect((await inject('PATCH', `/api/v1/templates/${t.id}`, { variables_schema: schema })).statusCode).toBe(200);
    const bad = await inject('POST', `/api/v1/templates/${t.id}/render`, { variables: { interfaces: [], device: { name: 'R1' } } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ code: 'TEMPLATE_VARIABLES_INVALID', errors: [{ path: 'body.variables.device.name' }] });
    const ok = await inject('POST', `/api/v1/templates/${t.id}/render`, { variables: { interfaces: [{ name: 'Gi0/1', vlan: 10 }], device: { name: 'r1' } } });
    expect(ok.json()).toEqual({ output: 'interface Gi0/1\n vlan 10hostname r1\n', template_id: t.id, version: 1 });
    const invalidSchema = await inject('PATCH', `/api/v1/templates/${t.id}`, {
      variables_schema: { type: 'object', properties: { a: { pattern: '(a)\\1' } } },
    });
    expect(invalidSchema.statusCode).toBe(422);
    expect(invalidSchema.json().errors[0].path).toBe('body.variables_schema');
  });

  it("renders with the device's inventory data, includes resolving to stored templates", async () => {
    const platform = uniq('ios');
    await inject('POST', '/api/v1/platforms', { name: platform, network_driver: 'cisco_ios' });
    const dev = (await inject('POST', '/api/v1/devices', { name: uniq('r'), platform, status: 'active', primary_ip4: '192.0.2.10' })).json();
    const eth = (await inject('POST', '/api/v1/interfaces', { device: dev.name, name: 'Gi0/1' })).json();
    await inject('POST', '/api/v1/ip-addresses', { address: '198.51.100.7/24', interface: eth.id });
    const partial = uniq('partials/iface');
    await create({
      name: partial,
      content: '{% for ip in ip_addresses %}{{ ip.address | ipaddr("address") }} {{ ip.address | ipaddr("netmask") }}{% endfor %}',
    });
    const t = await create({
      name: uniq('cfg'),
      content: `hostname {{ device.name }}\n! {{ platform.network_driver }}\n{% for i in interfaces %}interface {{ i.name }}\n ip address {% include '${partial}' %}\n{% endfor %}`,
    });
    const res = await inject('POST', `/api/v1/templates/${t.id}/render`, { device_id: dev.id });
    expect(res.statusCode, res.body).toBe(200);
    // trim_blocks eats the newline after `{% include %}` as after any block tag, as in Jinja2.
    expect(res.json().output).toBe(`hostname ${dev.name}\n! cisco_ios\ninterface Gi0/1\n ip address 198.51.100.7 255.255.255.0`);
    const missingInclude = await inject('POST', '/api/v1/templates/render', { content: "{% include 'nope/none.j2' %}" });
    expect(missingInclude.json()).toMatchObject({ code: 'TEMPLATE_INCLUDE_NOT_FOUND' });
    expect((await inject('POST', `/api/v1/templates/${t.id}/render`, { device_id: '01890000-0000-7000-8000-000000000000' })).statusCode).toBe(404);
  });

  it('renders unsaved content and reports errors with their line', async () => {
    const ok = await inject('POST', '/api/v1/templates/render', { content: '{{ a }}-{{ "10.0.0.1/8" | ipaddr("network") }}', variables: { a: 1 } });
    expect(ok.json()).toEqual({ output: '1-10.0.0.0', template_id: null, version: null });
    const undef = await inject('POST', '/api/v1/templates/render', { content: 'x\n{{ missing }}' });
    expect(undef.statusCode).toBe(422);
    expect(undef.json()).toMatchObject({ code: 'TEMPLATE_UNDEFINED_VARIABLE', errors: [{ path: 'body.content', message: "line 2: 'missing' is undefined" }] });
    const escape = await inject('POST', '/api/v1/templates/render', { content: "{{ range.constructor('return process')() }}" });
    expect(escape.statusCode).toBe(422);
  });

  it('stops a template that loops forever while GET /health and other renders keep answering', async () => {
    // Both render workers started, so the endless render and a quick one run side by side.
    await Promise.all([0, 1].map(() => inject('POST', '/api/v1/templates/render', { content: 'warm' })));
    const forever = '{% for a in range(100000) %}{% for b in range(100000) %}{% for c in range(100000) %}{% endfor %}{% endfor %}{% endfor %}';
    let settled = false;
    const render = inject('POST', '/api/v1/templates/render', { content: forever }).then((r) => {
      settled = true;
      return r;
    });
    const health = await server().app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    const quick = await inject('POST', '/api/v1/templates/render', { content: '{{ 1 + 1 }}' });
    expect(quick.json().output).toBe('2');
    // Rendered on the event loop, the endless template would have held both answers until it was stopped.
    expect(settled).toBe(false);
    const res = await render;
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('TEMPLATE_LIMIT');
    const after = await inject('POST', '/api/v1/templates/render', { content: '{{ 1 + 1 }}' });
    expect(after.json().output).toBe('2');
  });

  it('lets viewers read but not write or render', async () => {
    const t = await create({ name: uniq('ro'), content: 'x' });
    const viewer = await loginAs(server(), 'viewer');
    expect((await inject('GET', `/api/v1/templates/${t.id}`, undefined, viewer.token)).statusCode).toBe(200);
    expect((await inject('PATCH', `/api/v1/templates/${t.id}`, { content: 'y' }, viewer.token)).statusCode).toBe(403);
    expect((await inject('POST', `/api/v1/templates/${t.id}/render`, {}, viewer.token)).statusCode).toBe(403);
    const operator = await loginAs(server(), 'operator');
    expect((await inject('POST', `/api/v1/templates/${t.id}/render`, {}, operator.token)).json().output).toBe('x');
  });
});
