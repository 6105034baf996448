import { describe, expect, it } from 'vitest';
import { normaliseCidr, normaliseHost, normaliseMac } from './ip.fns.js';
import { validateCustomFields, type CustomFieldDef } from './custom-field.fns.js';
import { groupName, networkOs } from './ansible.fns.js';
import { descendantsOf, pathOf } from './location.fns.js';
import { csvColumns, fromCsvRecord, toCsvRecord } from './import-export.fns.js';
import { DeviceBodies } from './device.schemas.js';

describe('ip.fns', () => {
  it.each([
    ['10.0.0.1', undefined, { host: '10.0.0.1', family: 4 }],
    ['10.0.0.1/24', 4, { host: '10.0.0.1', family: 4 }],
    ['2001:DB8:0:0::1', 6, { host: '2001:db8::1', family: 6 }],
    ['2001:db8::1/64', undefined, { host: '2001:db8::1', family: 6 }],
  ] as const)('normalises host %s', (text, family, expected) => {
    expect(normaliseHost(text, family)).toEqual(expected);
  });
  it.each([['10.0.0.256'], ['010.0.0.1'], ['10.1'], ['10.0.0.1/33'], ['fe80::1%eth0'], ['host'], ['1.2.3.4/24/1'], ['2001:db8::1/129']])(
    'rejects %s',
    (text) => {
      expect(typeof normaliseHost(text)).toBe('string');
    },
  );
  it('keeps families apart', () => {
    expect(normaliseHost('2001:db8::1', 4)).toMatch(/not an IPv4/);
    expect(normaliseHost('10.0.0.1', 6)).toMatch(/not an IPv6/);
  });
  it('normalises CIDRs, defaulting to a host prefix', () => {
    expect(normaliseCidr('10.0.0.1')).toEqual({ host: '10.0.0.1', family: 4, prefixLength: 32, address: '10.0.0.1/32' });
    expect(normaliseCidr('2001:0db8::0001/64')).toEqual({ host: '2001:db8::1', family: 6, prefixLength: 64, address: '2001:db8::1/64' });
    expect(typeof normaliseCidr('10.0.0.1/x')).toBe('string');
  });
  it.each([
    ['00-11-22-AA-BB-CC', '00:11:22:aa:bb:cc'],
    ['0011.22aa.bbcc', '00:11:22:aa:bb:cc'],
    ['001122aabbcc', '00:11:22:aa:bb:cc'],
    ['00:11:22:aa:bb', null],
    ['zz:11:22:aa:bb:cc', null],
  ])('normalises MAC %s', (text, expected) => {
    expect(normaliseMac(text)).toBe(expected);
  });
});

describe('custom-field.fns', () => {
  const defs: CustomFieldDef[] = [
    { name: 'units', type: 'integer', required: true, default: 1, validation: { min: 1, max: 4 } },
    { name: 'code', type: 'string', required: false, default: null, validation: { regex: '^[A-Z]{3}$' } },
    { name: 'since', type: 'date', required: false, default: null, validation: {} },
    { name: 'tier', type: 'select', required: false, default: null, validation: { choices: ['a', 'b'] } },
    { name: 'managed', type: 'boolean', required: false, default: null, validation: {} },
  ];
  it.each<[Record<string, unknown>, string[]]>([
    [{ units: 2, code: 'LON', since: '2024-02-29', tier: 'a', managed: true }, []],
    [{ units: 5 }, ['units']],
    [{ units: 2.5 }, ['units']],
    [{ code: 'lon' }, ['code']],
    [{ since: '2023-02-29' }, ['since']],
    [{ tier: 'c', managed: 'yes' }, ['tier', 'managed']],
    [{ other: 1 }, ['other']],
  ])('validates %j', (input, failing) => {
    expect(
      validateCustomFields(defs, input, null)
        .errors.map((e) => e.name)
        .sort(),
    ).toEqual(failing.sort());
  });
  it('fills defaults on create, merges on update and removes with null', () => {
    expect(validateCustomFields(defs, {}, null).values).toEqual({ units: 1 });
    expect(validateCustomFields(defs, { code: 'ABC' }, { units: 3, tier: 'b' }).values).toEqual({ units: 3, code: 'ABC', tier: 'b' });
    expect(validateCustomFields(defs, { tier: null }, { units: 3, tier: 'b' }).values).toEqual({ units: 3 });
    expect(validateCustomFields(defs, { units: null }, { units: 3 }).errors).toEqual([{ name: 'units', message: 'is required' }]);
  });
});

describe('ansible and location naming', () => {
  it.each([
    ['role', 'Core Routers', 'role_core_routers'],
    ['location', 'Paris-1', 'location_paris_1'],
    ['tag', '!!!', 'tag_unnamed'],
  ])('names group %s/%s', (prefix, name, expected) => {
    expect(groupName(prefix, name)).toBe(expected);
  });
  it('maps drivers to collection network OS names', () => {
    expect(networkOs('cisco_ios')).toBe('cisco.ios.ios');
    expect(networkOs('mikrotik_routeros')).toBe('mikrotik_routeros');
    expect(networkOs('')).toBeNull();
  });
  it('walks the location tree both ways', () => {
    const tree = [
      { id: 'r', name: 'R', parentId: null },
      { id: 's', name: 'S', parentId: 'r' },
      { id: 'b', name: 'B', parentId: 's' },
      { id: 'o', name: 'O', parentId: null },
    ];
    expect(descendantsOf(tree, 'r').sort()).toEqual(['b', 'r', 's']);
    expect(pathOf(tree, 'b').map((l) => l.name)).toEqual(['R', 'S', 'B']);
  });
});

describe('import-export.fns', () => {
  const cfs: CustomFieldDef[] = [{ name: 'units', type: 'integer', required: false, default: null, validation: {} }];
  it('turns CSV records into bodies by the create schema', () => {
    const r = fromCsvRecord({ id: '', name: 'a', tags: 'x, y', hostname: '', cf_units: '4', credential_id: '' }, DeviceBodies.create, cfs, 'rows.1');
    expect(r).toEqual({ body: { name: 'a', tags: ['x', 'y'], hostname: null, credential_id: null, custom_fields: { units: 4 } }, errors: [] });
    expect(fromCsvRecord({ name: 'a', cf_nope: '1', colour: 'red' }, DeviceBodies.create, cfs, 'rows.2').errors.map((e) => e.path)).toEqual([
      'rows.2.cf_nope',
      'rows.2.colour',
    ]);
  });
  it('writes API objects back as the same columns', () => {
    const columns = csvColumns(DeviceBodies.create, cfs);
    expect(columns.slice(0, 3)).toEqual(['id', 'name', 'hostname']);
    const row = toCsvRecord(
      { id: 'i', name: 'a', platform: { id: 'p', name: 'ios' }, tags: ['x', 'y'], custom_fields: { units: 4 }, credential_id: null },
      columns,
      DeviceBodies.create,
    );
    expect(row[columns.indexOf('platform')]).toBe('ios');
    expect(row[columns.indexOf('tags')]).toBe('x,y');
    expect(row[columns.indexOf('cf_units')]).toBe('4');
    expect(row[columns.indexOf('credential_id')]).toBe('');
  });
});
