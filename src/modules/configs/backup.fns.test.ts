import { describe, expect, it } from 'vitest';
import { checkProfilePatterns, diffSummary, maskLine, normalizeConfig } from './backup.fns.js';
import { BUILTIN_PROFILES, profileFor, type PlatformProfile } from './platform-profiles.fns.js';

const byId = (id: string): PlatformProfile => BUILTIN_PROFILES.find((p) => p.id === id)!;

describe('built-in platform profiles', () => {
  it('hold only valid RE2 patterns', () => {
    for (const p of BUILTIN_PROFILES) {
      expect(checkProfilePatterns({ prompt: p.prompt, strip_lines: p.stripLines, mask: p.mask }), p.id).toEqual([]);
    }
  });

  it('are chosen by network driver, user-defined ones first', () => {
    expect(profileFor('cisco_xe')?.id).toBe('cisco_ios');
    expect(profileFor('vendor_x')).toBeNull();
    const mine = { ...byId('cisco_ios'), id: 'mine' };
    expect(profileFor('cisco_ios', [mine])?.id).toBe('mine');
  });

  // One noisy configuration per platform: what must go, what must be masked, what must stay.
  const cases: { id: string; raw: string; gone: string[]; secrets: string[]; kept: string[] }[] = [
    {
      id: 'cisco_ios',
      raw: 'Building configuration...\r\n\r\nCurrent configuration : 1834 bytes\r\n!\r\n! Last configuration change at 10:01:07 UTC Mon Dec 7 2026 by netops\r\n! NVRAM config last updated at 09:00:00 UTC\r\nhostname R1   \r\nenable secret 5 $1$abc$S3cr3tHash\r\nusername bob privilege 15 secret 9 $9$bobHashValue\r\nsnmp-server community PubC0mm RO\r\nntp clock-period 17179869\r\ntacacs-server host 10.0.0.9 key 7 0822455D0A16\r\nrouter bgp 65000\r\n neighbor 10.0.0.2 password 7 045802150C2E\r\nend\r\n',
      gone: ['Building configuration', 'Current configuration', 'Last configuration change', 'NVRAM config', 'ntp clock-period'],
      secrets: ['$1$abc$S3cr3tHash', '$9$bobHashValue', 'PubC0mm', '0822455D0A16', '045802150C2E'],
      kept: [
        'hostname R1',
        'enable secret 5 <removed>',
        'username bob privilege 15 secret 9 <removed>',
        'snmp-server community <removed> RO',
        ' neighbor 10.0.0.2 password 7 <removed>',
        'end',
      ],
    },
    {
      id: 'cisco_nxos',
      raw: '!Command: show running-config\n!Running configuration last done at: Mon Dec  7 10:00:00 2026\n!Time: Mon Dec  7 10:05:00 2026\nhostname N1\nusername admin password 5 $5$nxosHash role network-admin\nsnmp-server user admin network-admin auth md5 0xabcdef0123 priv 0x99 localizedkey\n',
      gone: ['!Command', '!Running configuration', '!Time'],
      secrets: ['$5$nxosHash', '0xabcdef0123'],
      kept: ['hostname N1', 'username admin password 5 <removed> role network-admin'],
    },
    {
      id: 'cisco_xr',
      raw: 'Mon Dec  7 10:00:00.123 UTC\nBuilding configuration...\n!! IOS XR Configuration 7.3.2\n!! Last configuration change at Mon Dec  7 09:00:00 2026 by admin\nhostname XR1\nusername admin\n secret 10 $6$xrHashValue\n!\n',
      gone: ['Mon Dec  7 10:00:00.123 UTC', 'Building configuration', 'Last configuration change'],
      secrets: ['$6$xrHashValue'],
      kept: ['hostname XR1', '!! IOS XR Configuration 7.3.2', ' secret 10 <removed>'],
    },
    {
      id: 'arista_eos',
      raw: '! Command: show running-config\n! device: leaf1 (DCS-7050SX-64, EOS-4.28.3M) uptime 5 days\n! Time: Mon Dec  7 10:00:00 2026\nhostname leaf1\nusername admin privilege 15 role network-admin secret sha512 $6$eosHash\nsnmp-server community EosComm ro\n',
      gone: ['! Command', 'uptime', '! Time'],
      secrets: ['$6$eosHash', 'EosComm'],
      kept: ['hostname leaf1', 'snmp-server community <removed> ro'],
    },
    {
      id: 'juniper_junos',
      raw: '## Last commit: 2026-12-07 10:00:00 UTC by admin\nsystem {\n    host-name mx1;\n    root-authentication {\n        encrypted-password "$6$junosHash"; ## SECRET-DATA\n    }\n}\nsnmp {\n    community JunComm {\n        authorization read-only;\n    }\n}\n',
      gone: ['## Last commit'],
      secrets: ['$6$junosHash', 'JunComm'],
      kept: ['    host-name mx1;', '        encrypted-password "<removed>"; ## SECRET-DATA'],
    },
    {
      id: 'linux',
      raw: 'web1\n127.0.0.1 localhost\ntoken = abcd-efgh-1234\n',
      gone: [],
      secrets: ['abcd-efgh-1234'],
      kept: ['web1', '127.0.0.1 localhost', 'token = <removed>'],
    },
  ];

  it.each(cases)('$id: strips noise, masks secrets, keeps the configuration', (c) => {
    const out = normalizeConfig(c.raw, byId(c.id));
    for (const g of c.gone) expect(out).not.toContain(g);
    for (const s of c.secrets) expect(out).not.toContain(s);
    const lines = out.split('\n');
    for (const k of c.kept) expect(lines).toContain(k);
    expect(out).not.toMatch(/\r| +\n/);
    expect(out.endsWith('\n')).toBe(true);
    // Stable: a second pass changes nothing.
    expect(normalizeConfig(out, byId(c.id))).toBe(out);
  });
});

describe('normalizeConfig', () => {
  it('gives the same text for reads that differ only in noise, CRLF and trailing blanks', () => {
    const p = byId('cisco_ios');
    const a = normalizeConfig('\n! Last configuration change at 10:00:01 UTC\nhostname R1\nntp clock-period 1\n\n', p);
    const b = normalizeConfig('! Last configuration change at 11:22:33 UTC\r\nhostname R1  \r\nntp clock-period 2\r\n', p);
    expect(a).toBe('hostname R1\n');
    expect(b).toBe(a);
    expect(normalizeConfig('\n\n', p)).toBe('');
  });

  it('masks with group 1 kept and the custom replacement', () => {
    expect(maskLine('snmp-server community foo RO', { mask: [{ pattern: '^(snmp-server community )\\S+', replacement: 'X' }] })).toBe(
      'snmp-server community X RO',
    );
    expect(maskLine('nothing here', { mask: [{ pattern: '^(secret )\\S+', replacement: 'X' }] })).toBe('nothing here');
  });
});

describe('diffSummary', () => {
  it('counts lines and lists the first changed ones', () => {
    expect(diffSummary('a\nb\n', 'a\nc\nd\n', 'x.cfg')).toEqual({ added: 2, removed: 1, lines: ['-b', '+c', '+d'], truncated: false });
    const many = Array.from({ length: 30 }, (_, i) => `l${i}`).join('\n');
    const s = diffSummary('', `${many}\n`, 'x.cfg', 5);
    expect(s).toMatchObject({ added: 30, removed: 0, truncated: true });
    expect(s.lines).toEqual(['+l0', '+l1', '+l2', '+l3', '+l4']);
  });
});

describe('checkProfilePatterns', () => {
  it('names each pattern RE2 refuses', () => {
    const errors = checkProfilePatterns({ prompt: '(?<=x)>', strip_lines: ['^ok', '(a)\\1'], mask: [{ pattern: '^fine' }, { pattern: 'a(?!b)' }] });
    expect(errors.map((e) => e.path)).toEqual(['body.prompt', 'body.strip_lines.1', 'body.mask.1.pattern']);
    expect(errors[0]!.message).toMatch(/^not a valid RE2 pattern/);
  });
});
