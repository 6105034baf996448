import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expandCompletion, findIndexRow, noTemplateError, parseIndex } from './clitable.fns.js';
import { parseToRecords } from './ntc-records.fns.js';
import { compileTemplate } from './textfsm-template.fns.js';

/** Index files and row selection as textfsm's clitable does them (SEMANTICS.md §10c). */
const GOOGLE = new URL('../../../../../shared/data/textfsm-google/testdata/', import.meta.url);
const NTC = new URL('../../../../../shared/data/ntc-templates/templates/', import.meta.url);
const read = (base: URL, name: string): string => readFileSync(new URL(name, base), 'utf8');

describe('expandCompletion', () => {
  it.each([
    ['sh[[ow]] ver[[sion]]', 'sh(o(w)?)? ver(s(i(o(n)?)?)?)?'],
    ['show version', 'show version'],
    ['sh[[ow]] (in[[terfaces]]|in)$', 'sh(o(w)?)? (in(t(e(r(f(a(c(e(s)?)?)?)?)?)?)?)?|in)$'],
  ])('%s', (input, expected) => expect(expandCompletion(input)).toBe(expected));
});

describe('ntc-templates index lookup', () => {
  const index = parseIndex(read(NTC, 'index'));
  const lookup = (platform: string, command: string) => findIndexRow(index, { Platform: platform, Command: command })?.templates ?? null;

  it('expands abbreviations', () => {
    expect(lookup('cisco_ios', 'sh ip int br')).toEqual(['cisco_ios_show_ip_interface_brief.textfsm']);
    expect(lookup('cisco_ios', 'show ip interface brief')).toEqual(['cisco_ios_show_ip_interface_brief.textfsm']);
  });

  it('anchors at the start only, and the first matching row wins', () => {
    expect(lookup('cisco_ios', 'show version detail')).toEqual(['cisco_ios_show_version.textfsm']);
    expect(lookup('cisco_iosxe', 'show version')).toEqual(['cisco_ios_show_version.textfsm']);
    expect(lookup('cisco_ios', 's ver')).toBeNull();
    expect(lookup('cisco_ios', 'SHOW VERSION')).toBeNull();
    expect(lookup('cisco_ios', ' show version')).toBeNull();
  });

  it('formats a failed lookup like clitable', () => {
    expect(noTemplateError({ Command: 's ver', Platform: 'cisco_ios' }).message).toBe(
      `No template found for attributes: "{'Command': 's ver', 'Platform': 'cisco_ios'}"`,
    );
  });
});

describe('google clitable test data', () => {
  it('parses default_index, dropping comments and picking rows by Vendor and Command', () => {
    const index = parseIndex(read(GOOGLE, 'default_index'));
    expect(index.header).toEqual(['Template', 'Hostname', 'Vendor', 'Command']);
    expect(index.rows).toHaveLength(3);
    expect(findIndexRow(index, { Vendor: 'VendorA', Command: 'sh ver' })?.templates).toEqual(['clitable_templateA', 'clitable_templateB']);
    expect(findIndexRow(index, { Vendor: 'VendorB', Command: 'show version' })?.templates).toEqual(['clitable_templateC']);
    expect(findIndexRow(index, { Vendor: 'VendorA', Command: 'sh int' })?.templates).toEqual(['clitable_templateD']);
  });

  it('rejects an index without a Template column and an index with a bad regex', () => {
    expect(() => parseIndex(read(GOOGLE, 'nondefault_index'))).toThrow("Index file does not have 'Template' column.");
    expect(() => parseIndex(read(GOOGLE, 'parseindexfail1_index'))).toThrow("Index file does not have 'Template' column.");
    expect(() => parseIndex(read(GOOGLE, 'parseindexfail3_index'))).toThrow(/Invalid regular expression '\[\[VendorB' in column Vendor/);
  });

  it('accepts columns in another order', () => {
    const index = parseIndex(read(GOOGLE, 'parseindexfail2_index'));
    expect(index.rows[0]?.columns['Template']).toBe('.*');
  });

  it('merges multi-template rows by Key, first partner wins (SEMANTICS.md §10c.4)', () => {
    const templates = ['clitable_templateA', 'clitable_templateB'].map((name) => ({ name, template: compileTemplate(read(GOOGLE, name)) }));
    expect(parseToRecords(templates, 'a b c\nd e f\n')).toEqual([
      { col1: 'a', col2: 'b', col3: 'c', col4: 'b' },
      { col1: 'd', col2: 'e', col3: 'f', col4: 'e' },
    ]);
    expect(parseToRecords(templates, 'a b c\nd e f\na x y\n')[2]).toEqual({ col1: 'a', col2: 'x', col3: 'y', col4: 'b' });
  });

  it('merges by position when no template has a Key, dropping extra later rows', () => {
    const a = compileTemplate('Value A (\\S+)\n\nStart\n  ^a=${A} -> Record\n');
    const b = compileTemplate('Value B (\\S+)\n\nStart\n  ^b=${B} -> Record\n');
    expect(
      parseToRecords(
        [
          { name: 'a', template: a },
          { name: 'b', template: b },
        ],
        'a=1\nb=x\nb=y\n',
      ),
    ).toEqual([{ a: '1', b: 'x' }]);
  });
});
