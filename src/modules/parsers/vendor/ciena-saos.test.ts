import { readFileSync } from 'node:fs';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';
import { createParserRegistry } from '../parser-registry.js';
import { cienaSaosLldpParser } from './ciena-saos-lldp.parser.js';
import { cienaSaosPortParser } from './ciena-saos-port.parser.js';
import { cienaSaosXcvrParser } from './ciena-saos-xcvr.parser.js';
import { vendorParsers } from './index.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');

describe('Ciena SAOS port xcvr show', () => {
  const records = cienaSaosXcvrParser.parse(fixture('ciena-saos-port-xcvr-show.txt') + fixture('ciena-saos-port-xcvr-show-diagnostics.txt'));

  it('reads every slot, empty ones included', () => {
    expect(records.map((r) => [r['port'], r['present']])).toEqual([
      ['1', true],
      ['2', true],
      ['3', true],
      ['4', true],
      ['5', false],
      ['6', false],
    ]);
  });

  it('splits vendor, part number and revision, medium and connector', () => {
    expect(records[2]).toMatchObject({
      vendor_name: 'FINISAR CORP.',
      part_number: 'FTLX8571D3BCL',
      revision: 'A',
      ciena_rev: null,
      ether_medium: '10GBASE-SR',
      connector_type: 'LC',
      oper_state: 'UCTF',
    });
    expect(records[3]).toMatchObject({ admin_state: 'disabled', oper_state: 'disabled', diagnostics_supported: false });
  });

  it('merges diagnostics (power levels, temperature, bias) into the port', () => {
    expect(records[1]).toMatchObject({
      port: '2',
      temperature_c: 38.125,
      voltage_v: 3.287,
      tx_bias_ma: 35.87,
      tx_power_mw: 0.5012,
      tx_power_dbm: -3,
      rx_power_mw: 0.2512,
      rx_power_dbm: -6,
      rx_los: false,
      tx_fault: false,
    });
    expect(records[0]?.['rx_power_dbm']).toBeNull();
  });

  it('derives dBm from mW when only mW is printed', () => {
    const only = fixture('ciena-saos-port-xcvr-show-diagnostics.txt')
      .split('\n')
      .filter((l) => !l.includes('(dBm)'))
      .join('\n');
    const [rec] = cienaSaosXcvrParser.parse(only);
    expect(rec?.['rx_power_dbm']).toBe(-6);
    expect(rec?.['tx_power_dbm']).toBe(-3);
  });
});

describe('Ciena SAOS port show', () => {
  const records = cienaSaosPortParser.parse(fixture('ciena-saos-port-show.txt'));

  it('skips the global configuration block and reads every port', () => {
    expect(records.map((r) => r['port'])).toEqual(['1', '2', '3', '4', '5', '6']);
  });

  it('decodes link state, duration, speed, duplex and auto-negotiation', () => {
    expect(records[0]).toEqual({
      port: '1',
      port_type: '10/100/G',
      link_state: 'up',
      link_state_duration: '112d 4h07m55s',
      link_state_duration_s: 9691675,
      xcvr_state: 'Ena',
      stp_state: 'Fwd',
      speed_mbps: 1000,
      duplex: 'full',
      auto_negotiation: true,
      admin_state: 'enabled',
      admin_speed: 'auto',
      admin_duplex: 'full',
      admin_auto_negotiation: true,
    });
    expect(records[1]).toMatchObject({ speed_mbps: 10000, auto_negotiation: false, admin_speed: 10000 });
    expect(records[3]).toMatchObject({ link_state: 'down', speed_mbps: null, duplex: null, admin_state: 'disabled', admin_speed: 100, admin_duplex: 'half' });
  });
});

describe('Ciena SAOS lldp remote show', () => {
  const records = cienaSaosLldpParser.parse(fixture('ciena-saos-lldp-remote-show.txt'));

  it('reads one neighbour per local port, with continued management addresses', () => {
    expect(records.map((r) => [r['local_port'], r['remote_port'], r['system_name']])).toEqual([
      ['1', '25', 'PE-CORE-01'],
      ['2', 'Gi0/0/0/3', 'agg-rtr-2.example.net'],
      ['4', 'ge-0/0/12', 'edge-sw-3'],
    ]);
    expect(records[0]).toMatchObject({
      chassis_id: '2C39C1A44E00',
      management_addresses: ['10.20.0.1', 'fe80::2e39:c1ff:fea4:4e00'],
      port_description: 'to SDS-LAB-07 port 1',
      synce_supported: true,
    });
    expect(records[2]).toMatchObject({ chassis_id: '40:B4:F0:11:22:33', management_addresses: [], system_description: null });
  });

  it('ignores the local system block', () => {
    expect(records.some((r) => r['system_name'] === 'SDS-LAB-07')).toBe(false);
  });
});

describe('vendor parser contracts', () => {
  it.each([
    [cienaSaosXcvrParser, 'ciena-saos-port-xcvr-show.txt'],
    [cienaSaosPortParser, 'ciena-saos-port-show.txt'],
    [cienaSaosLldpParser, 'ciena-saos-lldp-remote-show.txt'],
  ])('%s output matches its schema', (parser, name) => {
    const check = Compile(parser.schema);
    const out = parser.parse(fixture(name));
    expect(out.length).toBeGreaterThan(0);
    expect(check.Check(out)).toBe(true);
  });

  it('finds parsers by abbreviated command, anchored at the end', () => {
    const registry = createParserRegistry(vendorParsers);
    expect(registry.find({ platform: 'ciena_saos', command: 'port xcvr show' })?.id).toBe('ciena_saos.port_xcvr_show');
    expect(registry.find({ platform: 'ciena_saos', command: 'po xcvr sh port 2 diag' })?.id).toBe('ciena_saos.port_xcvr_show');
    expect(registry.find({ platform: 'ciena_saos', command: 'po sh' })?.id).toBe('ciena_saos.port_show');
    expect(registry.find({ platform: 'ciena_saos', command: 'port show status' })).toBeNull();
    expect(registry.find({ platform: 'ciena_saos', command: 'lldp rem sh' })?.id).toBe('ciena_saos.lldp_remote_show');
    expect(registry.find({ platform: 'cisco_ios', command: 'port show' })).toBeNull();
  });

  it('returns nothing for unrelated text', () => {
    for (const p of vendorParsers) expect(p.parse('% Invalid input detected\n')).toEqual([]);
  });
});
