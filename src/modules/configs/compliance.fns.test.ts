import { describe, expect, it } from 'vitest';
import { blocksOf, evaluateRule, MAX_LINES, type RuleCheck } from './compliance.fns.js';

const CONFIG = [
  'hostname r1',
  'service password-encryption',
  'interface GigabitEthernet0/1',
  ' description uplink',
  ' ip proxy-arp',
  ' no shutdown',
  '!',
  'interface GigabitEthernet0/2',
  ' shutdown',
  '!',
  'line vty 0 4',
  ' transport input ssh telnet',
  ' login local',
  'ntp server 192.0.2.1',
  '',
].join('\n');

const rule = (r: Partial<RuleCheck>): RuleCheck => ({ kind: 'must_contain', lines: [], ordered: false, pattern: null, parent: null, ...r });

describe('compliance evaluation', () => {
  it('splits an indented configuration into top-level blocks', () => {
    const blocks = blocksOf(CONFIG);
    expect(blocks.map((b) => b.header)).toEqual([
      'hostname r1',
      'service password-encryption',
      'interface GigabitEthernet0/1',
      '!',
      'interface GigabitEthernet0/2',
      '!',
      'line vty 0 4',
      'ntp server 192.0.2.1',
    ]);
    expect(blocks[2]!.children).toEqual(['description uplink', 'ip proxy-arp', 'no shutdown']);
  });

  it.each([
    ['every line present', rule({ lines: ['service password-encryption', '  ntp server 192.0.2.1'] }), 'compliant', [], []],
    [
      'a line absent',
      rule({ lines: ['service password-encryption', 'logging host 192.0.2.9', 'no ip http server'] }),
      'noncompliant',
      ['logging host 192.0.2.9', 'no ip http server'],
      [],
    ],
    ['in order', rule({ lines: ['hostname r1', 'ntp server 192.0.2.1'], ordered: true }), 'compliant', [], []],
    ['out of order', rule({ lines: ['ntp server 192.0.2.1', 'hostname r1'], ordered: true }), 'noncompliant', ['hostname r1'], []],
    ['block children present', rule({ parent: 'line vty 0 4', lines: ['login local'] }), 'compliant', [], []],
    [
      'block child missing, as a snippet',
      rule({ parent: 'line vty .*', lines: ['transport input ssh', 'login local', 'exec-timeout 5 0'] }),
      'noncompliant',
      ['line vty 0 4', ' transport input ssh', ' exec-timeout 5 0'],
      [],
    ],
    [
      'every matching block checked',
      rule({ parent: 'interface GigabitEthernet0/\\d+', lines: ['no shutdown'] }),
      'noncompliant',
      ['interface GigabitEthernet0/2', ' no shutdown'],
      [],
    ],
    [
      'no block at all',
      rule({ parent: 'router bgp \\d+', lines: ['bgp log-neighbor-changes'] }),
      'noncompliant',
      ['router bgp \\d+', ' bgp log-neighbor-changes'],
      [],
    ],
    [
      'a forbidden line',
      rule({ kind: 'must_not_match', pattern: '^ip proxy-arp$|telnet' }),
      'noncompliant',
      [],
      ['ip proxy-arp', 'transport input ssh telnet'],
    ],
    ['nothing forbidden', rule({ kind: 'must_not_match', pattern: '^snmp-server community public' }), 'compliant', [], []],
    [
      'a forbidden line under blocks',
      rule({ kind: 'must_not_match', parent: 'interface .*', pattern: 'proxy-arp' }),
      'noncompliant',
      [],
      ['interface GigabitEthernet0/1', ' ip proxy-arp'],
    ],
    ['a forbidden pattern outside the blocks', rule({ kind: 'must_not_match', parent: 'line vty .*', pattern: 'proxy-arp' }), 'compliant', [], []],
  ] as const)('%s', (_name, r, status, missing, extra) => {
    expect(evaluateRule(r, CONFIG)).toEqual({ status, missing, extra });
  });

  it('caps the lists it reports', () => {
    const big = Array.from({ length: 500 }, (_, i) => `access-list 1 permit 10.0.${i}.0 ${'x'.repeat(600)}`).join('\n');
    const out = evaluateRule(rule({ kind: 'must_not_match', pattern: '^access-list' }), big);
    expect(out.extra).toHaveLength(MAX_LINES);
    expect(out.extra[0]!.length).toBe(500);
  });
});
