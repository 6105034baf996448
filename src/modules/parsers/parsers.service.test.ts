import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR, type Actor } from '../../platform/http/auth.js';
import { createMemoryCustomTemplateStore, createParsersService } from './index.js';

const LIBRARY = fileURLToPath(new URL('../../../../shared/data/ntc-templates/templates', import.meta.url));
const IP_INT_BR = [
  'Interface              IP-Address      OK? Method Status                Protocol',
  'GigabitEthernet0/0     10.0.0.1        YES NVRAM  up                    up',
  'GigabitEthernet0/1     unassigned      YES unset  administratively down down',
  'Loopback0              192.0.2.1       YES manual up                    up',
  '',
].join('\n');
const CUSTOM = 'Value INTF (\\S+)\nValue STATUS (up|down)\n\nStart\n  ^${INTF}\\s+\\S+\\s+\\S+\\s+\\S+\\s+${STATUS} -> Record\n';

const store = createMemoryCustomTemplateStore();
const actor = SYSTEM_ACTOR;
const service = createParsersService({ libraryDirs: ['/nonexistent/opsdeck-lib', LIBRARY], customTemplates: store, maxInputBytes: 64 * 1024, workers: 1 });

afterAll(async () => {
  await service.close();
});

describe('parsers service', () => {
  it('parses by platform and abbreviated command through the library index', async () => {
    const result = await service.parse(actor, { platform: 'cisco_ios', command: 'sh ip int br', output: IP_INT_BR });
    expect(result.template).toBe('cisco_ios_show_ip_interface_brief.textfsm');
    expect(result.parser).toBe('textfsm:cisco_ios_show_ip_interface_brief.textfsm');
    expect(result.records).toHaveLength(3);
    expect(result.records[1]).toEqual({ interface: 'GigabitEthernet0/1', ip_address: 'unassigned', status: 'administratively down', proto: 'down' });
    expect(Object.keys(result.records[0] ?? {})).toEqual(['interface', 'ip_address', 'status', 'proto']);
  });

  it('parses by template name and by parser id, with the same records', async () => {
    const byName = await service.parse(actor, { template: 'cisco_ios_show_ip_interface_brief.textfsm', output: IP_INT_BR });
    const byId = await service.parse(actor, { parser: 'textfsm:cisco_ios_show_ip_interface_brief.textfsm', output: IP_INT_BR });
    expect(byId.records).toEqual(byName.records);
  });

  it('routes Ciena commands to the native parsers', async () => {
    const text = readFileSync(new URL('./fixtures/ciena-saos-port-show.txt', import.meta.url), 'utf8');
    const result = await service.parse(actor, { platform: 'ciena_saos', command: 'port show', output: text });
    expect(result).toMatchObject({ template: null, parser: 'ciena_saos.port_show' });
    expect(result.records).toHaveLength(6);
  });

  it('lets custom templates win over library ones, by command and by name', async () => {
    await store.put({ name: 'my_ip_int_br.textfsm', platform: 'cisco_ios', command: 'sh[[ow]] ip int[[erface]] br[[ief]]', content: CUSTOM });
    await store.put({ name: 'cisco_ios_show_version.textfsm', content: CUSTOM });
    try {
      const byCommand = await service.parse(actor, { platform: 'cisco_ios', command: 'show ip interface brief', output: IP_INT_BR });
      expect(byCommand.template).toBe('my_ip_int_br.textfsm');
      expect(Object.keys(byCommand.records[0] ?? {})).toEqual(['intf', 'status']);
      const byName = await service.parse(actor, { template: 'cisco_ios_show_version.textfsm', output: IP_INT_BR });
      expect(Object.keys(byName.records[0] ?? {})).toEqual(['intf', 'status']);
      expect((await service.listTemplates(actor, { platform: 'cisco_ios' })).items[0]).toMatchObject({ name: 'my_ip_int_br.textfsm', source: 'custom' });
    } finally {
      await store.delete('my_ip_int_br.textfsm');
      await store.delete('cisco_ios_show_version.textfsm');
    }
  });

  it('answers unknown commands, templates and parsers with clear 404s', async () => {
    await expect(service.parse(actor, { platform: 'cisco_ios', command: 's ver', output: '' })).rejects.toMatchObject({
      code: 'PARSER_TEMPLATE_NOT_FOUND',
      status: 404,
    });
    await expect(service.parse(actor, { template: '../index', output: '' })).rejects.toMatchObject({ code: 'PARSER_TEMPLATE_NOT_FOUND' });
    await expect(service.parse(actor, { parser: 'nope', output: '' })).rejects.toMatchObject({ code: 'PARSER_NOT_FOUND', status: 404 });
  });

  it('refuses input over the size limit', async () => {
    await expect(service.parse(actor, { platform: 'cisco_ios', command: 'show version', output: 'x'.repeat(64 * 1024 + 1) })).rejects.toMatchObject({
      code: 'PARSER_INPUT_TOO_LARGE',
      status: 413,
    });
  });

  it('reports a broken custom template with its line number', async () => {
    expect(() => service.checkTemplate('Value A (\\S+)\n\nStart\n  ^${A} -> Nowhere\n')).toThrow("State 'Nowhere' not found, referenced in state 'Start'");
    expect(service.checkTemplate(CUSTOM).header).toEqual(['INTF', 'STATUS']);
  });

  it('lists parsers and describes their output schema', async () => {
    const ciena = (await service.listParsers(actor, { platform: 'ciena_saos', limit: 1000 })).items;
    expect(ciena.filter((p) => p.kind === 'native').map((p) => p.id)).toEqual([
      'ciena_saos.port_xcvr_show',
      'ciena_saos.port_show',
      'ciena_saos.lldp_remote_show',
    ]);
    expect(ciena.some((p) => p.id === 'textfsm:ciena_saos_vlan_show.textfsm')).toBe(true);
    expect(ciena.find((p) => p.id === 'textfsm:ciena_saos_vlan_show.textfsm')?.schema).toMatchObject({ type: 'array' });
    expect(ciena.find((p) => p.kind === 'native')?.schema).toMatchObject({ type: 'array' });
    const detail = await service.getParser(actor, 'textfsm:cisco_ios_show_ip_interface_brief.textfsm');
    expect(Object.keys((detail.schema as { items: { properties: object } }).items.properties)).toEqual(['interface', 'ip_address', 'status', 'proto']);
  });

  it('pages the registry with an opaque cursor', async () => {
    const first = await service.listParsers(actor, { platform: 'cisco_ios', limit: 5 });
    expect(first.items).toHaveLength(5);
    const second = await service.listParsers(actor, { platform: 'cisco_ios', limit: 5, cursor: first.next_cursor ?? '' });
    expect(second.items.map((p) => p.id)).not.toContain(first.items[0]?.id);
    await expect(service.listTemplates(actor, { cursor: 'bogus' })).rejects.toMatchObject({ code: 'INVALID_CURSOR', status: 400 });
  });

  it('requires parsers:read from the actor', async () => {
    const nobody: Actor = { kind: 'user', id: '0190f000-0000-7000-8000-000000000001', name: 'nobody', permissions: new Set(['devices:read']), teamIds: [] };
    await expect(service.parse(nobody, { platform: 'cisco_ios', command: 'sh ip int br', output: IP_INT_BR })).rejects.toMatchObject({ status: 403 });
    await expect(service.listParsers(nobody)).rejects.toMatchObject({ status: 403 });
  });
});
