import { describe, expect, it } from 'vitest';
import { classify, enterpriseOf } from './classify.fns.js';
import { compare } from './compare.fns.js';
import type { HostResultT } from './host-result.js';
import { neighboursOf } from './host-result.js';
import { expandTargets, parseTarget, rangeKey } from './targets.fns.js';

describe('expandTargets', () => {
  it.each([
    [['10.0.0.0/30'], [], ['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3']],
    [['10.0.0.254-10.0.1.1'], [], ['10.0.0.254', '10.0.0.255', '10.0.1.0', '10.0.1.1']],
    [
      ['10.0.0.0/30', '10.0.0.2', '10.0.0.1-10.0.0.2'],
      ['10.0.0.0', '10.0.0.3/32'],
      ['10.0.0.1', '10.0.0.2'],
    ],
    [['2001:db8::/126'], ['2001:db8::1'], ['2001:db8::', '2001:db8::2', '2001:db8::3']],
    [['::1', '127.0.0.1'], [], ['127.0.0.1', '::1']],
    [['fe80::fffe-fe80::1:1'], [], ['fe80::fffe', 'fe80::ffff', 'fe80::1:0', 'fe80::1:1']],
  ])('%j minus %j', (targets, exclude, expected) => {
    expect(expandTargets(targets, exclude, 1_000_000)).toEqual({ addresses: expected, errors: [] });
  });

  it.each([
    ['10.0.0.0/33', 'prefix length'],
    ['10.0.0.1/24', 'host bits set (the network is 10.0.0.0/24)'],
    ['10.0.0.9-10.0.0.1', 'ends before it starts'],
    ['10.0.0.1-::1', 'mixes IPv4 and IPv6'],
    ['::ffff:10.0.0.1', 'not an address'],
    ['host.example', 'not an address'],
    ['10.0.0.1/', 'prefix length'],
  ])('refuses %s', (entry, message) => {
    expect(parseTarget(entry)).toEqual(expect.stringContaining(message));
    expect(expandTargets(['10.0.0.1', entry], [], 10).errors).toEqual([{ path: 'body.targets.1', message: expect.stringContaining(message) }]);
  });

  it('refuses more addresses than the limit without enumerating them, and nothing left', () => {
    expect(expandTargets(['2001:db8::/64'], [], 4096).errors[0]).toEqual({ path: 'body.targets', message: expect.stringContaining('18446744073709551616') });
    expect(expandTargets(['10.0.0.0/24'], [], 255).errors[0]!.message).toContain('256 addresses');
    expect(expandTargets(['10.0.0.0/24'], ['10.0.0.0/23'], 255).errors[0]!.message).toContain('no address is left');
  });

  it('keys the same range the same way however it is written', () => {
    expect(rangeKey(['10.0.0.0/30'], [])).toBe(rangeKey(['10.0.0.0-10.0.0.1', '10.0.0.2/31'], []));
    expect(rangeKey(['10.0.0.0/30'], ['10.0.0.3'])).not.toBe(rangeKey(['10.0.0.0/30'], []));
  });
});

describe('classify', () => {
  it.each([
    [{ sysObjectId: '1.3.6.1.4.1.9.1.1208' }, 'cisco_ios', 0.6, ['sys_object_id']],
    [{ sysObjectId: '1.3.6.1.4.1.9.12.3', sysDescr: 'Cisco NX-OS(tm) n9000' }, 'cisco_ios', 0.6, ['sys_object_id', 'sys_descr']],
    [{ sysObjectId: '1.3.6.1.4.1.30065.1', sysDescr: 'Arista Networks EOS version 4.28' }, 'arista_eos', 0.8, ['sys_object_id', 'sys_descr']],
    [{ banner: 'SSH-2.0-Cisco-1.25', commands: { 'show version': 'Cisco IOS Software, C3750' } }, 'cisco_ios', 0.86, ['ssh_banner', 'command']],
    [{ banner: 'SSH-2.0-Cisco-1.25', commands: { 'show version': 'Cisco IOS XE Software, Version 17.3' } }, 'cisco_xe', 0.8, ['ssh_banner', 'command']],
    [{ sysObjectId: '1.3.6.1.4.1.8072.3.2.10' }, 'linux', 0.6, ['sys_object_id']],
    [{ banner: 'SSH-2.0-dropbear' }, null, 0, []],
  ])('%j → %s', (signals, platform, confidence, sources) => {
    const c = classify(signals);
    expect(c.platform).toBe(platform);
    expect(c.confidence).toBe(confidence);
    expect(c.evidence.map((e) => e.source)).toEqual(sources);
  });

  it('reads the enterprise number of a sysObjectID', () => {
    expect(enterpriseOf('.1.3.6.1.4.1.2636.1.1.1.2.29')).toBe('2636');
    expect(enterpriseOf('1.3.6.1.2.1.1')).toBeNull();
  });
});

describe('compare and neighbours', () => {
  const host = (over: Partial<HostResultT>): HostResultT => ({
    address: '10.0.0.1',
    alive: true,
    icmp: null,
    open_ports: [22],
    ssh_banner: null,
    snmp: null,
    facts: { hostname: 'r1', serial: 'S1' },
    interfaces: [],
    neighbours: [],
    platform: null,
    confidence: 0,
    evidence: [],
    ssh_credential_id: null,
    snmp_credential_id: null,
    notes: [],
    ...over,
  });
  const device = { id: 'd', name: 'r1', hostname: 'r1', primary_ip4: '10.0.0.1', primary_ip6: null, serial: 'S0', os_version: null };

  it('says new, changed (with the fields), unchanged, missing and absent', () => {
    expect(compare(host({}), null).state).toBe('new');
    expect(compare(host({}), device)).toMatchObject({ state: 'changed', changes: [{ field: 'serial', inventory: 'S0', discovered: 'S1' }] });
    expect(compare(host({}), { ...device, serial: 'S1' })).toMatchObject({ state: 'unchanged', changes: [] });
    expect(compare(host({ alive: false }), device).state).toBe('missing');
    expect(compare(host({ alive: false }), null).state).toBe('absent');
  });

  it('takes neighbours from ntc-templates LLDP and CDP records, skipping incomplete ones', () => {
    expect(
      neighboursOf([{ LOCAL_INTERFACE: 'Gi0/1', NEIGHBOR_NAME: 'sw1', NEIGHBOR_PORT_ID: 'Gi1/0/1', MGMT_ADDRESS: '10.0.0.2' }, { NEIGHBOR_NAME: 'x' }], 'lldp'),
    ).toEqual([{ protocol: 'lldp', local_interface: 'Gi0/1', name: 'sw1', port: 'Gi1/0/1', address: '10.0.0.2' }]);
    expect(neighboursOf([{ local_interface: 'Gi0/2', destination_host: 'sw2', remote_port: 'Gi0/9', management_ip: '' }], 'cdp')).toEqual([
      { protocol: 'cdp', local_interface: 'Gi0/2', name: 'sw2', port: 'Gi0/9', address: null },
    ]);
  });
});
