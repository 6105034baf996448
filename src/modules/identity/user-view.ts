import type { UserRow } from './users.repository.js';

export interface UserView {
  id: string;
  username: string;
  email: string;
  display_name: string;
  status: 'active' | 'disabled' | 'locked';
  roles: string[];
  two_factor_enabled: boolean;
  must_change_password: boolean;
  locked_until: string | null;
  last_login_at: string | null;
  created_at: string;
  updated_at: string;
  team_ids?: string[];
}

/** The API shape of a user: whitelisted fields only, `locked` derived from the lockout. */
export function toUserView(u: UserRow, roles: string[], clock: () => number, teamIds?: string[]): UserView {
  const locked = u.lockedUntil !== null && Date.parse(u.lockedUntil) > clock();
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    display_name: u.displayName,
    status: u.status === 'disabled' ? 'disabled' : locked ? 'locked' : 'active',
    roles,
    two_factor_enabled: u.totpEnabled,
    must_change_password: u.mustChangePassword,
    locked_until: locked ? u.lockedUntil : null,
    last_login_at: u.lastLoginAt,
    created_at: u.createdAt,
    updated_at: u.updatedAt,
    ...(teamIds ? { team_ids: teamIds } : {}),
  };
}
