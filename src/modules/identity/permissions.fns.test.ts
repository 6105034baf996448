import { describe, expect, it } from 'vitest';
import { builtinPermissions, createPermissionRegistry, intersectPermissions, isSubset, unionPermissions } from './permissions.fns.js';

const REGISTERED = [
  'account:read',
  'account:manage',
  'devices:read',
  'devices:write',
  'configs:write',
  'templates:write',
  'jobs:run',
  'jobs:run_adhoc',
  'workflows:run',
  'credentials:read',
  'credentials:use',
  'credentials:reveal',
  'credentials:write',
  'users:read',
  'users:admin',
  'roles:admin',
  'teams:admin',
  'settings:write',
  'audit:read',
  'api-keys:write',
];

describe('built-in roles derived from the registry', () => {
  it('gives admin everything, including permissions registered later', () => {
    expect(builtinPermissions('admin', REGISTERED)).toBe('*');
  });

  it('gives viewer every read permission but users and audit, and self-service; never a secret or a write', () => {
    expect([...(builtinPermissions('viewer', REGISTERED) as Set<string>)].sort()).toEqual(
      ['account:manage', 'account:read', 'credentials:read', 'devices:read'].sort(),
    );
  });

  it('gives auditor every read permission, users and audit included, and self-service', () => {
    expect([...(builtinPermissions('auditor', REGISTERED) as Set<string>)].sort()).toEqual(
      ['account:manage', 'account:read', 'audit:read', 'credentials:read', 'devices:read', 'users:read'].sort(),
    );
    expect((builtinPermissions('operator', REGISTERED) as Set<string>).has('audit:read')).toBe(false);
  });

  it.each([
    ['devices:write', true],
    ['configs:write', true],
    ['templates:write', true],
    ['jobs:run', true],
    ['jobs:run_adhoc', false],
    ['workflows:run', true],
    ['credentials:use', true],
    ['api-keys:write', true],
    ['users:read', true],
    ['credentials:reveal', false],
    ['credentials:write', false],
    ['users:admin', false],
    ['roles:admin', false],
    ['teams:admin', false],
    ['settings:write', false],
  ])('operator: %s → %s', (permission, granted) => {
    expect((builtinPermissions('operator', REGISTERED) as Set<string>).has(permission)).toBe(granted);
  });

  it('rejects permissions not in resource:action form', () => {
    const registry = createPermissionRegistry();
    expect(() => registry.register(['Devices:Read'])).toThrow(/resource:action/);
    expect(() => registry.register(['devices'])).toThrow(/resource:action/);
    registry.register(['devices:read']);
    expect(registry.list()).toEqual(['devices:read']);
  });
});

describe('permission algebra', () => {
  const s = (...p: string[]) => new Set(p);
  it('intersects, with * as the identity', () => {
    expect(intersectPermissions('*', s('a:read'))).toEqual(s('a:read'));
    expect(intersectPermissions(s('a:read', 'b:read'), s('b:read', 'c:read'))).toEqual(s('b:read'));
    expect(intersectPermissions('*', '*')).toBe('*');
  });
  it('unions, with * absorbing', () => {
    expect(unionPermissions([s('a:read'), s('b:read')])).toEqual(s('a:read', 'b:read'));
    expect(unionPermissions([s('a:read'), '*'])).toBe('*');
    expect(unionPermissions([])).toEqual(s());
  });
  it('checks subsets; * fits only within *', () => {
    expect(isSubset(s('a:read'), s('a:read', 'b:read'))).toBe(true);
    expect(isSubset(s('a:read', 'c:read'), s('a:read'))).toBe(false);
    expect(isSubset('*', s('a:read'))).toBe(false);
    expect(isSubset('*', '*')).toBe(true);
  });
});
