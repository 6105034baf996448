/**
 * The permission registry and the rules that derive the built-in roles from it. Permissions
 * are `resource:action`; the action names carry meaning:
 * - `read`   lists and reads, never a secret value (viewer gets every one except the
 *   privileged reads: other users' details and the audit log, which the built-in `auditor`
 *   role holds; operators read users but not the audit log);
 * - `reveal` shows a secret value (admin only);
 * - `admin`  administration of the resource (admin only);
 * - `use`, `run`, `write` … everything else (operator gets it, unless the resource is an
 *   administrative one, see ADMIN_RESOURCES, or the permission is ADMIN_ONLY: `jobs:run_adhoc`).
 * `account:*` is self-service (own password, 2FA, sessions) and is part of every built-in role.
 */
export const PERMISSION_PATTERN = /^[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*$/;

export const BUILTIN_ROLES = ['admin', 'operator', 'viewer', 'auditor'] as const;
export type BuiltinRole = (typeof BUILTIN_ROLES)[number];

/** Resources whose non-read permissions are user/credential/instance administration: not for operators. */
const ADMIN_RESOURCES = new Set(['users', 'roles', 'teams', 'credentials', 'settings', 'webhooks', 'cache', 'notifications']);
/** Operator may still use credentials in jobs; using one never shows its value. */
const OPERATOR_ALLOWED = new Set(['credentials:use']);
const SECRET_ACTIONS = new Set(['reveal', 'admin']);
/** Reaching arbitrary addresses from the workers (ad-hoc job targets): admin only; a custom role can grant it. */
const ADMIN_ONLY = new Set(['jobs:run_adhoc']);
/** Reads about people and their actions: not for viewers; the audit log not for operators either. */
const PRIVILEGED_READS = new Set(['users:read', 'audit:read', 'audit:read-all']);
/** `audit:read-all`: the audit entries of every team (docs/architecture.md "Team scoping"). */
const AUDITOR_ONLY = new Set(['audit:read', 'audit:read-all']);

function split(permission: string): [string, string] {
  const i = permission.indexOf(':');
  return [permission.slice(0, i), permission.slice(i + 1)];
}

export function isViewerPermission(permission: string): boolean {
  return isAuditorPermission(permission) && !PRIVILEGED_READS.has(permission);
}

/** Every read, the audit log and users included, and self-service; nothing that changes anything. */
export function isAuditorPermission(permission: string): boolean {
  const [resource, action] = split(permission);
  if (AUDITOR_ONLY.has(permission)) return true;
  return resource === 'account' ? action === 'read' || action === 'manage' : action === 'read';
}

export function isOperatorPermission(permission: string): boolean {
  const [resource, action] = split(permission);
  if (SECRET_ACTIONS.has(action) || AUDITOR_ONLY.has(permission) || ADMIN_ONLY.has(permission)) return false;
  if (action === 'read' || resource === 'account' || OPERATOR_ALLOWED.has(permission)) return true;
  return !ADMIN_RESOURCES.has(resource);
}

/** Permissions of a built-in role; `'*'` for admin, so permissions registered later are included. */
export function builtinPermissions(role: BuiltinRole, registered: Iterable<string>): ReadonlySet<string> | '*' {
  if (role === 'admin') return '*';
  const rule = role === 'viewer' ? isViewerPermission : role === 'auditor' ? isAuditorPermission : isOperatorPermission;
  return new Set([...registered].filter(rule));
}

/** The registry every module's permissions are added to (`modules.ts` → `identity.registerPermissions`). */
export function createPermissionRegistry() {
  const all = new Set<string>();
  return {
    register(list: readonly string[]): void {
      for (const p of list) {
        if (!PERMISSION_PATTERN.test(p)) throw new Error(`permission '${p}' is not in resource:action form`);
        all.add(p);
      }
    },
    has: (p: string) => all.has(p),
    list: (): string[] => [...all].sort(),
    builtin: (role: BuiltinRole) => builtinPermissions(role, all),
  };
}
export type PermissionRegistry = ReturnType<typeof createPermissionRegistry>;

/** The union of several grants; `'*'` absorbs everything. */
export function unionPermissions(grants: (ReadonlySet<string> | '*')[]): ReadonlySet<string> | '*' {
  if (grants.includes('*')) return '*';
  const out = new Set<string>();
  for (const g of grants) for (const p of g as ReadonlySet<string>) out.add(p);
  return out;
}

/** What both grants allow: an API key never exceeds its creator. */
export function intersectPermissions(a: ReadonlySet<string> | '*', b: ReadonlySet<string> | '*'): ReadonlySet<string> | '*' {
  if (a === '*') return b;
  if (b === '*') return a;
  return new Set([...a].filter((p) => b.has(p)));
}

/** Whether every permission of `wanted` is in `held` (`'*'` only within `'*'`). */
export function isSubset(wanted: ReadonlySet<string> | '*', held: ReadonlySet<string> | '*'): boolean {
  if (held === '*') return true;
  if (wanted === '*') return false;
  return [...wanted].every((p) => held.has(p));
}

/** Identity's own permissions (the system module declares its own). */
export const IDENTITY_PERMISSIONS = [
  'account:read',
  'account:manage',
  'users:read',
  'users:admin',
  'roles:read',
  'roles:admin',
  'teams:read',
  'teams:admin',
  'api-keys:read',
  'api-keys:write',
  'api-keys:admin',
  'audit:read',
  'audit:read-all',
] as const;
