import { describe, expect, it } from 'vitest';
import { createJinja, PRODUCT_OPTIONS, TemplateError } from './index.js';

/** The Ansible filters, with the results Ansible (ansible.utils / ansible-core) documents for them. */
const jinja = createJinja(PRODUCT_OPTIONS);
const r = (src: string, vars: Record<string, unknown> = {}) => jinja.render(src, vars);

describe('ipaddr family', () => {
  it.each([
    ["'192.168.1.10/24'|ipaddr", '192.168.1.10/24'],
    ["'192.168.1.10/24'|ipaddr('address')", '192.168.1.10'],
    ["'192.168.1.10/24'|ipaddr('network')", '192.168.1.0'],
    ["'192.168.1.10/24'|ipaddr('netmask')", '255.255.255.0'],
    ["'192.168.1.10/24'|ipaddr('hostmask')", '0.0.0.255'],
    ["'192.168.1.10/24'|ipaddr('prefix')", '24'],
    ["'192.168.1.10/24'|ipaddr('host')", '192.168.1.10/24'],
    ["'192.168.1.0/24'|ipaddr('host')", 'False'],
    ["'192.168.1.10/24'|ipaddr('network/prefix')", '192.168.1.0/24'],
    ["'192.168.1.10/24'|ipaddr('broadcast')", '192.168.1.255'],
    ["'192.168.1.0/24'|ipaddr('size')", '256'],
    ["'192.168.1.0/24'|ipaddr('first_usable')", '192.168.1.1'],
    ["'192.168.1.0/24'|ipaddr('last_usable')", '192.168.1.254'],
    ["'192.168.1.0/24'|ipaddr(5)", '192.168.1.5/24'],
    ["'192.168.1.0/24'|ipaddr(-1)", '192.168.1.255/24'],
    ["'10.0.0.1/255.255.255.252'|ipaddr('prefix')", '30'],
    ["'10.0.0.1'|ipaddr('netmask')", '255.255.255.255'],
    ["'2001:DB8:0:0::1/64'|ipaddr", '2001:db8::1/64'],
    ["'2001:db8::1/64'|ipaddr('network')", '2001:db8::'],
    ["'2001:db8::1/64'|ipaddr('prefix')", '64'],
    ["'not an ip'|ipaddr", 'False'],
    ["'999.1.1.1'|ipaddr", 'False'],
    ["['10.0.0.1', 'host.example', '::1', '']|ipaddr", "['10.0.0.1', '::1']"],
    ["['10.0.0.1', '::1']|ipv4", "['10.0.0.1']"],
    ["['10.0.0.1', '::1']|ipv6", "['::1']"],
    ["'::1'|ipwrap", '[::1]'],
    ["'10.0.0.1'|ipwrap", '10.0.0.1'],
    ["'10.0.0.0/24'|nthhost(10)", '10.0.0.10'],
    ["'10.0.0.255'|ipmath(1)", '10.0.1.0'],
  ])('%s → %s', (expr, want) => {
    expect(r(`{{ ${expr} }}`)).toBe(want);
  });
  it('tests', () => {
    expect(r("{{ '10.1.1.1' is in_network('10.0.0.0/8') }} {{ '10.1.1.1' is private }} {{ '8.8.8.8' is public }} {{ 'x' is ipv4 }}")).toBe(
      'True True True False',
    );
  });
});

describe('data and text filters', () => {
  it('to_json is json.dumps (insertion order), to_nice_json sorts and indents by 4', () => {
    expect(r('{{ d|to_json }}', { d: { b: 1, a: [1, 'é'] } })).toBe('{"b": 1, "a": [1, "\\u00e9"]}');
    expect(r('{{ d|to_nice_json }}', { d: { b: 1, a: [] } })).toBe('{\n    "a": [],\n    "b": 1\n}');
  });
  it('to_yaml is PyYAML flow-for-leaves with sorted keys; to_nice_yaml is block style, indent 4', () => {
    const d = { b: [1, 2], a: { y: [{ n: 1, m: 'yes' }] } };
    expect(r('{{ d|to_yaml }}', { d })).toBe("a:\n  y:\n  - {m: 'yes', n: 1}\nb: [1, 2]\n");
    expect(r('{{ d|to_nice_yaml }}', { d })).toBe("a:\n    y:\n    -   m: 'yes'\n        n: 1\nb:\n- 1\n- 2\n");
  });
  it('regex_replace uses Python replacement syntax', () => {
    expect(r("{{ 'GigabitEthernet0/1'|regex_replace('^GigabitEthernet(\\\\d+/\\\\d+)$', 'Gi\\\\1') }}")).toBe('Gi0/1');
    expect(r("{{ 'a-b-c'|regex_replace('-', '_') }}")).toBe('a_b_c');
    expect(r("{{ 'ABC'|regex_replace('b', 'x', ignorecase=true) }}")).toBe('AxC');
    expect(r("{{ 'host42'|regex_replace('(?P<n>\\\\d+)', '<\\\\g<n>>') }}")).toBe('host<42>');
  });
  it('regex_search returns the match, the asked groups, or None', () => {
    expect(r("{{ 'Version 15.2(4)'|regex_search('\\\\d+\\\\.\\\\d+') }}")).toBe('15.2');
    expect(r("{{ 'Version 15.2(4)'|regex_search('(\\\\d+)\\\\.(\\\\d+)', '\\\\2', '\\\\1') }}")).toBe("['2', '15']");
    expect(r("{{ 'abc'|regex_search('\\\\d') }}")).toBe('None');
  });
  it('regexes are RE2: backreferences are refused, catastrophic patterns stay linear', () => {
    expect(() => r("{{ 'aa'|regex_search('(a)\\\\1') }}")).toThrow(TemplateError);
    expect(r("{{ ('a' * 5000 ~ '!')|regex_search('^(a+)+$') }}")).toBe('None');
  });
  it('hash is hashlib hexdigest of the UTF-8 text', () => {
    expect(r("{{ 'abc'|hash('md5') }}")).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(r("{{ 'abc'|hash('sha1') }}")).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(r("{{ 'abc'|hash }}")).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
  });
});
