import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { DIALECTS } from '../../../test/helpers/db.js';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';
import { useTestServer } from '../../../test/helpers/server.js';

const DATA = fileURLToPath(new URL('../../../../shared/data/ntc-templates', import.meta.url));
const LIBRARY = `${DATA}/templates`;
const VERSION_RAW = readFileSync(`${DATA}/tests/cisco_ios/show_version/cisco_ios_show_version.raw`, 'utf8');
const VERSION_EXPECTED = (YAML.parse(readFileSync(`${DATA}/tests/cisco_ios/show_version/cisco_ios_show_version.yml`, 'utf8')) as { parsed_sample: unknown[] })
  .parsed_sample;
const MINE = 'Value HOST (\\S+)\n\nStart\n  ^${HOST}\\s+uptime -> Record\n';
const CATASTROPHIC = 'Value A ((a+)+)\n\nStart\n  ^${A}$$ -> Record\n';

describe.each(DIALECTS)('parsers HTTP API on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_TEXTFSM_LIBRARY_DIRS: LIBRARY } });
  let token = '';
  beforeAll(async () => {
    token = await adminToken(server());
  });
  const inject = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object, as = token) =>
    server().app.inject({ method, url, headers: bearer(as), ...(payload ? { payload } : {}) });
  const countRows = async (): Promise<number> => {
    const r = await server()
      .db.database.db.withTables<{ parserTemplates: { id: string } }>()
      .selectFrom('parserTemplates')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  };

  it('parses by platform and abbreviated command like ntc-templates', async () => {
    const res = await inject('POST', '/api/v1/parsers/parse', { platform: 'cisco_ios', command: 'sh ver', output: VERSION_RAW });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ template: 'cisco_ios_show_version.textfsm', parser: 'textfsm:cisco_ios_show_version.textfsm', records: VERSION_EXPECTED });
  });

  it('parses by template name and by parser id, and with a native parser', async () => {
    const byName = await inject('POST', '/api/v1/parsers/parse', { template: 'cisco_ios_show_version.textfsm', output: VERSION_RAW });
    expect(byName.json().records).toEqual(VERSION_EXPECTED);
    const byId = await inject('POST', '/api/v1/parsers/parse', { parser: 'textfsm:cisco_ios_show_version.textfsm', output: VERSION_RAW });
    expect(byId.json().records).toEqual(VERSION_EXPECTED);
    const ciena = readFileSync(new URL('./fixtures/ciena-saos-port-show.txt', import.meta.url), 'utf8');
    const native = await inject('POST', '/api/v1/parsers/parse', { parser: 'ciena_saos.port_show', output: ciena });
    expect(native.statusCode).toBe(200);
    expect(native.json()).toMatchObject({ template: null, parser: 'ciena_saos.port_show' });
    expect(native.json().records).toHaveLength(6);
  });

  it('rejects malformed bodies with 400 naming the field', async () => {
    const missing = await inject('POST', '/api/v1/parsers/parse', { platform: 'cisco_ios', command: 'show version' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors).toContainEqual({ path: 'body.output', message: 'is required' });
    const extra = await inject('POST', '/api/v1/parsers/parse', { template: 'x.textfsm', output: '', platform: 'cisco_ios' });
    expect(extra.statusCode).toBe(400);
    const traversal = await inject('POST', '/api/v1/parsers/parse', { template: '../../etc/passwd', output: '' });
    expect(traversal.statusCode).toBe(400);
  });

  it('answers unknown commands and parsers with 404, oversized output with 413', async () => {
    const unknown = await inject('POST', '/api/v1/parsers/parse', { platform: 'cisco_ios', command: 'show nothing at all', output: 'x' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('PARSER_TEMPLATE_NOT_FOUND');
    const parser = await inject('POST', '/api/v1/parsers/parse', { parser: 'nope', output: 'x' });
    expect(parser.json()).toMatchObject({ status: 404, code: 'PARSER_NOT_FOUND' });
    const big = await inject('POST', '/api/v1/parsers/parse', { platform: 'cisco_ios', command: 'show version', output: 'x'.repeat(4 * 1024 * 1024 + 1) });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ code: 'PARSER_INPUT_TOO_LARGE' });
  });

  it('manages custom templates in the database; they win over the library until deleted', async () => {
    const created = await inject('POST', '/api/v1/parsers/custom-templates', {
      name: 'my_show_version.textfsm',
      platform: 'cisco_ios',
      command: 'sh[[ow]] ver[[sion]]',
      content: MINE,
    });
    expect(created.statusCode).toBe(201);
    const template = created.json();
    expect(template).toMatchObject({ name: 'my_show_version.textfsm', platform: 'cisco_ios', values: ['HOST'], description: null });
    expect(await countRows()).toBe(1);

    const parsed = await inject('POST', '/api/v1/parsers/parse', { platform: 'cisco_ios', command: 'show version', output: VERSION_RAW });
    expect(parsed.json()).toMatchObject({ template: 'my_show_version.textfsm', records: [{ host: 'router1' }] });
    expect((await inject('GET', `/api/v1/parsers/custom-templates/${template.id}`)).json()).toEqual(template);
    expect((await inject('GET', '/api/v1/parsers/custom-templates?platform=cisco_ios')).json()).toEqual({ items: [template], next_cursor: null });
    expect((await inject('GET', '/api/v1/parsers/templates?platform=cisco_ios')).json().items[0]).toEqual({
      name: 'my_show_version.textfsm',
      source: 'custom',
      platform: 'cisco_ios',
      command: 'sh[[ow]] ver[[sion]]',
      dir: null,
    });

    const replaced = await inject('PUT', `/api/v1/parsers/custom-templates/${template.id}`, {
      name: 'renamed.textfsm',
      content: MINE,
      description: 'by name only',
    });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ id: template.id, name: 'renamed.textfsm', platform: null, command: null, description: 'by name only' });
    const fallback = await inject('POST', '/api/v1/parsers/parse', { platform: 'cisco_ios', command: 'show version', output: VERSION_RAW });
    expect(fallback.json().template).toBe('cisco_ios_show_version.textfsm');
    const byName = await inject('POST', '/api/v1/parsers/parse', { template: 'renamed.textfsm', output: VERSION_RAW });
    expect(byName.json().records).toEqual([{ host: 'router1' }]);

    expect((await inject('DELETE', `/api/v1/parsers/custom-templates/${template.id}`)).statusCode).toBe(204);
    expect((await inject('GET', `/api/v1/parsers/custom-templates/${template.id}`)).json()).toMatchObject({ status: 404, code: 'PARSER_TEMPLATE_NOT_FOUND' });
    expect((await inject('DELETE', `/api/v1/parsers/custom-templates/${template.id}`)).statusCode).toBe(404);
    expect((await inject('POST', '/api/v1/parsers/parse', { template: 'renamed.textfsm', output: VERSION_RAW })).statusCode).toBe(404);
    expect(await countRows()).toBe(0);
  });

  it('refuses bad custom templates with 422, the field and the line, and writes nothing', async () => {
    const broken = await inject('POST', '/api/v1/parsers/custom-templates', {
      name: 'broken.textfsm',
      content: 'Value A (\\S+)\n\nStart\n  ^${A} -> Nowhere\n',
    });
    expect(broken.statusCode).toBe(422);
    expect(broken.json()).toMatchObject({
      code: 'PARSER_TEMPLATE_INVALID',
      errors: [{ path: 'body.content', message: expect.stringMatching(/^line 4: State 'Nowhere' not found/) }],
    });
    const badRegex = await inject('POST', '/api/v1/parsers/custom-templates', { name: 'regex.textfsm', content: 'Value A ([)\n\nStart\n  ^${A} -> Record\n' });
    expect(badRegex.statusCode).toBe(422);
    expect(badRegex.json().errors[0]).toMatchObject({ path: 'body.content', message: expect.stringMatching(/^line 1: /) });
    const fields = await inject('POST', '/api/v1/parsers/custom-templates', { name: '.hidden', platform: 'cisco_(ios', content: MINE });
    expect(fields.statusCode).toBe(422);
    expect(fields.json().errors.map((e: { path: string }) => e.path)).toEqual(['body.name', 'body.platform']);
    expect(await countRows()).toBe(0);

    const first = await inject('POST', '/api/v1/parsers/custom-templates', { name: 'dup.textfsm', content: MINE });
    expect(first.statusCode).toBe(201);
    const dup = await inject('POST', '/api/v1/parsers/custom-templates', { name: 'dup.textfsm', content: MINE });
    expect(dup.json()).toMatchObject({ status: 409, code: 'PARSER_TEMPLATE_EXISTS', errors: [{ path: 'body.name' }] });
    const other = await inject('POST', '/api/v1/parsers/custom-templates', { name: 'other.textfsm', content: MINE });
    const clash = await inject('PUT', `/api/v1/parsers/custom-templates/${other.json().id}`, { name: 'dup.textfsm', content: MINE });
    expect(clash.statusCode).toBe(409);
    const badPut = await inject('PUT', `/api/v1/parsers/custom-templates/${other.json().id}`, { name: 'other.textfsm', content: 'Start\n' });
    expect(badPut.statusCode).toBe(422);
    expect((await inject('GET', `/api/v1/parsers/custom-templates/${other.json().id}`)).json().content).toBe(MINE);
    expect((await inject('GET', '/api/v1/parsers/custom-templates/not-a-uuid')).statusCode).toBe(400);
    for (const t of [first.json(), other.json()]) await inject('DELETE', `/api/v1/parsers/custom-templates/${t.id}`);
  });

  it('stops a catastrophically backtracking template with 422 instead of hanging', async () => {
    const t = await inject('POST', '/api/v1/parsers/custom-templates', { name: 'slow.textfsm', content: CATASTROPHIC });
    expect(t.statusCode).toBe(201);
    const res = await inject('POST', '/api/v1/parsers/parse', { template: 'slow.textfsm', output: `${'a'.repeat(40)}!\n` });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('PARSER_TIMEOUT');
    const after = await inject('POST', '/api/v1/parsers/parse', { template: 'slow.textfsm', output: 'aaa\n' });
    expect(after.json().records).toEqual([{ a: 'aaa' }]);
    await inject('DELETE', `/api/v1/parsers/custom-templates/${t.json().id}`);
  });

  it('rejects input that reaches an Error rule with 422 and the rule line', async () => {
    const content = 'Value A (\\d+)\n\nStart\n  ^${A} -> Record\n  ^. -> Error "unexpected line"\n';
    const res = await inject('POST', '/api/v1/parsers/custom-templates', { name: 'strict.textfsm', content });
    const parsed = await inject('POST', '/api/v1/parsers/parse', { template: 'strict.textfsm', output: '1\nboom\n' });
    expect(parsed.statusCode).toBe(422);
    expect(parsed.json()).toMatchObject({ code: 'PARSER_TEXT_REJECTED', detail: expect.stringContaining('Rule Line: 5') });
    await inject('DELETE', `/api/v1/parsers/custom-templates/${res.json().id}`);
  });

  it('lists the registry with output schemas, the templates, and one parser', async () => {
    const registry = await inject('GET', '/api/v1/parsers?platform=ciena_saos&limit=1000');
    expect(registry.statusCode).toBe(200);
    const items = registry.json().items as { id: string; kind: string; schema: { type: string; items: { properties: object } } }[];
    expect(items.filter((p) => p.kind === 'native').map((p) => p.id)).toEqual([
      'ciena_saos.port_xcvr_show',
      'ciena_saos.port_show',
      'ciena_saos.lldp_remote_show',
    ]);
    expect(items.find((p) => p.id === 'textfsm:ciena_saos_vlan_show.textfsm')?.schema.type).toBe('array');
    const page = await inject('GET', '/api/v1/parsers/templates?platform=cisco_ios&limit=2');
    expect(page.json().items).toHaveLength(2);
    expect(page.json().next_cursor).toEqual(expect.any(String));
    const one = await inject('GET', '/api/v1/parsers/textfsm:cisco_ios_show_ip_interface_brief.textfsm');
    expect(Object.keys(one.json().schema.items.properties)).toEqual(['interface', 'ip_address', 'status', 'proto']);
    expect((await inject('GET', '/api/v1/parsers/textfsm:nope.textfsm')).statusCode).toBe(404);
  });

  it('needs parsers:read to parse and parsers:write to change templates, and audits changes', async () => {
    const anonymous = await server().app.inject({
      method: 'POST',
      url: '/api/v1/parsers/parse',
      payload: { platform: 'cisco_ios', command: 'sh ver', output: VERSION_RAW },
    });
    expect(anonymous.statusCode).toBe(401);
    const viewer = (await loginAs(server(), 'viewer', token)).token;
    expect((await inject('POST', '/api/v1/parsers/parse', { platform: 'cisco_ios', command: 'sh ver', output: VERSION_RAW }, viewer)).statusCode).toBe(200);
    expect((await inject('GET', '/api/v1/parsers/custom-templates', undefined, viewer)).statusCode).toBe(200);
    const denied = await inject('POST', '/api/v1/parsers/custom-templates', { name: 'viewer.textfsm', content: MINE }, viewer);
    expect(denied.statusCode).toBe(403);
    expect(await countRows()).toBe(0);

    const created = await inject('POST', '/api/v1/parsers/custom-templates', { name: 'audited.textfsm', content: MINE });
    await inject('DELETE', `/api/v1/parsers/custom-templates/${created.json().id}`);
    const audit = await inject('GET', `/api/v1/audit?resource_id=${created.json().id}&sort=time`);
    expect(audit.statusCode).toBe(200);
    expect(audit.json().items.map((e: { action: string }) => e.action)).toEqual(['parser_template.created', 'parser_template.deleted']);
  });
});
