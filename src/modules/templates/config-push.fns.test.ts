import { describe, expect, it } from 'vitest';
import { abortCommands, cleanConfig, configDiff, deviceError, linesToSend, saveCommand, type PushProfile } from './config-push.fns.js';
import { secretValues, secretVariablePaths, setVariable, variablePathError } from './secret-variables.fns.js';

const ios: PushProfile = {
  id: 'cisco_ios',
  mode: 'device',
  enable: true,
  setupCommands: [],
  backupCommands: ['show running-config'],
  stripLines: ['^Current configuration ?: \\d+ bytes'],
  mask: [{ pattern: '^(\\s*username \\S+ (?:secret|password) \\d+ )\\S+', replacement: '<removed>' }],
  configure: { enter: ['configure terminal'], commit: [], exit: ['end'] },
};
const xr: PushProfile = { ...ios, id: 'cisco_xr', configure: { enter: ['configure terminal'], commit: ['commit'], exit: ['end'] } };
const junos: PushProfile = { ...ios, id: 'juniper_junos', configure: { enter: ['configure private'], commit: ['commit and-quit'], exit: [] } };

describe('deviceError', () => {
  it.each([
    ["   ^\n% Invalid input detected at '^' marker.", "% Invalid input detected at '^' marker."],
    ['% Incomplete command.', '% Incomplete command.'],
    ['% Ambiguous command:  "int"', '% Ambiguous command:  "int"'],
    ['syntax error, expecting <command>.', 'syntax error, expecting <command>.'],
    ['error: configuration check-out failed', 'error: configuration check-out failed'],
    ['% Failed to commit one or more configuration items', '% Failed to commit one or more configuration items'],
    ['', null],
    ['Building configuration...\n[OK]', null],
    [' description no errors here', null],
  ])('%j → %j', (output, expected) => expect(deviceError(output)).toBe(expected));
});

describe('linesToSend', () => {
  it('skips blank lines and comments, keeps indentation and the rendered line numbers', () => {
    expect(linesToSend('hostname r1\n!\n\ninterface Gi0/1  \n description up\n# note\n  ! indented comment\nend')).toEqual([
      { number: 1, text: 'hostname r1' },
      { number: 4, text: 'interface Gi0/1' },
      { number: 5, text: ' description up' },
      { number: 8, text: 'end' },
    ]);
  });
});

describe('cleanConfig', () => {
  it('drops noise lines and masks secrets, keeping the prefix (RE2 group 1)', () => {
    expect(cleanConfig('Current configuration : 1834 bytes\r\nusername admin secret 0 S3cret!\nhostname r1', ios)).toBe(
      'username admin secret 0 <removed>\nhostname r1',
    );
  });
});

describe('abortCommands and saveCommand', () => {
  it.each([
    [ios, ['end'], 'write memory'],
    [xr, ['abort'], null],
    [junos, ['rollback 0', 'exit configuration-mode'], null],
    [{ ...ios, id: 'custom_box' }, ['end'], null],
  ])('%s', (profile, abort, save) => {
    expect(abortCommands(profile)).toEqual(abort);
    expect(saveCommand(profile)).toBe(save);
  });
});

describe('configDiff', () => {
  it('counts added and removed lines below the header', () => {
    const d = configDiff('a\nb\nc', 'a\nc\nd\ne', ['before', 'after']);
    expect(d).toMatchObject({ added: 2, removed: 1 });
    expect(d.diff).toContain('--- before');
    expect(d.diff).toContain('+++ after');
  });
  it('is empty when nothing changed', () => expect(configDiff('a', 'a', ['x', 'y'])).toEqual({ diff: '', added: 0, removed: 0 }));
});

describe('secretValues', () => {
  it('finds values by name at any depth and by schema marks (writeOnly, format password, x-secret)', () => {
    const vars = {
      hostname: 'r1',
      admin_password: 'pw-1',
      tacacs_key: 'k-2',
      keychain: 'not-secret',
      users: [{ name: 'bob', secret: 'pw-3' }],
      snmp: { ro_community: 'c-4', location: 'dc1' },
      locator: 'loc-5',
      pin: 1234,
      api: { token: 't-6' },
      opaque: 'o-7',
    };
    const schema = {
      type: 'object',
      properties: { locator: { type: 'string', writeOnly: true }, pin: { type: 'integer', format: 'password' }, opaque: { 'x-secret': true } },
    };
    expect(secretValues(vars, schema).sort()).toEqual(['1234', 'c-4', 'k-2', 'loc-5', 'o-7', 'pw-1', 'pw-3', 't-6']);
    expect(secretValues(vars, null)).not.toContain('loc-5');
  });
  it('marks everything under a secret name, including nested lists', () => {
    expect(secretValues({ secrets: { a: 'x1', b: ['x2', { c: 'x3' }] } }, null).sort()).toEqual(['x1', 'x2', 'x3']);
  });
});

describe('secretVariablePaths', () => {
  it('names the variable that makes a value secret (outermost), by name or schema, skipping empty values', () => {
    const vars = {
      ntp: '10.0.0.1',
      admin_password: 'pw',
      blank_password: '',
      users: [{ name: 'bob', secret: 's' }],
      secrets: { a: 'x', b: 'y' },
      locator: 'l',
    };
    const schema = { type: 'object', properties: { locator: { type: 'string', writeOnly: true } } };
    expect(secretVariablePaths(vars, schema)).toEqual(['admin_password', 'users.0.secret', 'secrets', 'locator']);
    expect(secretVariablePaths(vars, null)).not.toContain('locator');
  });
});

describe('variable paths for secret_variables', () => {
  it('accepts names and dotted paths, refuses anything else and prototype keys', () => {
    expect(variablePathError('bgp.auth_key')).toBeNull();
    expect(variablePathError('a-b')).not.toBeNull();
    expect(variablePathError('a..b')).not.toBeNull();
    expect(variablePathError('x.__proto__')).toBe('this name cannot be set');
  });
  it('sets a dotted path over copies of the objects on the way, never changing them', () => {
    const device = { name: 'r1' };
    const vars: Record<string, unknown> = { device };
    setVariable(vars, 'device.enable', 'e');
    setVariable(vars, 'bgp.auth.key', 'k');
    expect(vars).toEqual({ device: { name: 'r1', enable: 'e' }, bgp: { auth: { key: 'k' } } });
    expect(device).toEqual({ name: 'r1' });
    expect(() => setVariable(vars, 'device.name.x', 'v')).toThrow('device.name is not an object');
  });
});
