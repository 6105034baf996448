import type { Db } from '../../platform/db/database.js';
import type { Cache } from '../../platform/cache/index.js';
import { createUnitOfWork, type UnitOfWork } from '../../platform/db/unit-of-work.js';
import type { Logger } from '../../platform/observability/logger.js';
import { createApiKeysRepository } from './api-keys.repository.js';
import type { AuditService } from './audit.service.js';
import type { Jwt } from './jwt.js';
import type { PermissionRegistry } from './permissions.fns.js';
import type { Principals } from './principals.js';
import type { RevocationList } from './revocations.js';
import { createRolesRepository } from './roles.repository.js';
import type { TotpVault } from './totp-vault.js';
import { createSessionsRepository } from './sessions.repository.js';
import { createUsersRepository } from './users.repository.js';

export interface IdentitySettings {
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  passwordMinLength: number;
  lockoutThreshold: number;
  lockoutSeconds: number;
  /** How recent a password sign-in sensitive operations need (step-up). */
  stepUpWindowSeconds: number;
}

export function makeRepos(db: Db) {
  return {
    db,
    users: createUsersRepository(db),
    roles: createRolesRepository(db),
    sessions: createSessionsRepository(db),
    apiKeys: createApiKeysRepository(db),
  };
}
export type IdentityRepos = ReturnType<typeof makeRepos>;

/** Everything identity's services draw on, built once in index.ts; each service takes a `Pick<>` of it (`UsersDeps`, `AuthDeps`, …). */
export interface IdentityContext {
  db: Db;
  repos: IdentityRepos;
  uow: UnitOfWork<IdentityRepos>;
  audit: AuditService;
  cache: Cache;
  principals: Principals;
  revocations: RevocationList;
  jwt: Jwt;
  registry: PermissionRegistry;
  /** TOTP seeds under the vault key ring (`totp-vault.ts`). */
  sealer: TotpVault;
  settings: IdentitySettings;
  clock: () => number;
  logger: Pick<Logger, 'warn' | 'error' | 'info'>;
  /** The domain-event outbox (`user.created|updated|disabled|deleted`), when wired. */
  events?: { record(trx: Db, name: string, payload: unknown): Promise<unknown>; relay(): Promise<void> } | undefined;
}

export function createIdentityUow(db: Db, logger: Pick<Logger, 'error'>): UnitOfWork<IdentityRepos> {
  return createUnitOfWork(db, makeRepos, (err) => logger.error({ err }, 'identity after-commit step failed'));
}
