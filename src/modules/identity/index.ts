import { Redis } from 'ioredis';
import type { RoutePlugin } from '../../app.js';
import type { Config } from '../../config.js';
import type { Db } from '../../platform/db/database.js';
import type { RateLimitStore } from '../../platform/http/rate-limit.js';
import type { Cache } from '../../platform/cache/index.js';
import type { EventBus } from '../../platform/bus/index.js';
import type { Logger } from '../../platform/observability/logger.js';
import type { Actor } from '../../platform/http/auth.js';
import { createEnvelope, type KeyRing } from '../../platform/crypto/index.js';
import { createApiKeysService } from './api-keys.service.js';
import { createAuditService } from './audit.service.js';
import { authRoutes } from './auth.routes.js';
import { createAuthService } from './auth.service.js';
import { createAuthMemo } from './auth-memo.js';
import { createIdentityAuthenticator, type ResolvedCredential } from './authenticator.js';
import { ensureAdmin, resolveKeys } from './bootstrap.js';
import { createIdentityUow, makeRepos, type IdentityContext } from './identity.context.js';
import { identityRoutes } from './identity.routes.js';
import { createJwt } from './jwt.js';
import { createPermissionRegistry, IDENTITY_PERMISSIONS } from './permissions.fns.js';
import { createPrincipals } from './principals.js';
import { createActorLookup } from './actors.js';
import { createRevocationList } from './revocations.js';
import { createRolesService } from './roles.service.js';
import { createSealer } from './secrets.fns.js';
import { createStreamTickets } from './stream-tickets.js';
import { createTotpVault, migrateLegacyTotp } from './totp-vault.js';
import { createTwoFactorService } from './two-factor.service.js';
import { createUsersService } from './users.service.js';
import type { StepUp } from './step-up.fns.js';

export type { AuditEntry, AuditOutcome, AuditService } from './audit.service.js';
export { createAuditService } from './audit.service.js';
export { STEP_UP_HEADER } from './two-factor.service.js';
export { totpKeyUsage, totpRotationTables } from './totp-vault.js';

export type IdentityConfig = Pick<
  Config,
  | 'mode'
  | 'dataDir'
  | 'redisUrl'
  | 'redisPrefix'
  | 'jwtSecret'
  | 'jwtAlgorithm'
  | 'jwtPrivateKeyFile'
  | 'jwtIssuer'
  | 'adminPassword'
  | 'accessTokenTtlSeconds'
  | 'refreshTokenTtlSeconds'
  | 'passwordMinLength'
  | 'lockoutThreshold'
  | 'lockoutSeconds'
  | 'stepUpWindowSeconds'
  | 'authRateLimit'
>;

export interface IdentityDeps {
  db: Db;
  cache: Cache;
  bus: EventBus;
  logger: Logger;
  config: IdentityConfig;
  /** The vault's master keys: TOTP seeds are sealed under them (envelope encryption). */
  keyRing: KeyRing;
  /** The domain-event outbox: user changes are recorded with them. */
  events?: IdentityContext['events'];
  /** Where the first-start banner goes (stdout in `serve`); never the log. */
  announce?: (text: string) => void;
  clock?: () => number;
  /** Counts coalesced audit denials (the shared rate-limit store: Redis in a cluster); in memory when absent. */
  denials?: RateLimitStore;
}

/**
 * Users, roles and permissions, tokens, API keys, 2FA, lockout and the audit log. Seeds the
 * built-in roles and the first admin, and loads the revocation list, before returning.
 */
export async function createIdentityModule(deps: IdentityDeps) {
  const clock = deps.clock ?? Date.now;
  const keys = resolveKeys(deps.config);
  const jwt = await createJwt(keys.jwt);
  const registry = createPermissionRegistry();
  registry.register(IDENTITY_PERMISSIONS);
  const audit = createAuditService({ db: deps.db, clock, events: deps.events, denials: deps.denials });
  const revocations = createRevocationList({ db: deps.db, bus: deps.bus, logger: deps.logger, clock });
  const memo = createAuthMemo<ResolvedCredential>({ bus: deps.bus, logger: deps.logger, clock });
  const principals = createPrincipals({ db: deps.db, cache: deps.cache, registry, memo });
  // The JWT-secret-derived sealer only opens seeds stored before they moved under the key ring.
  const totpVault = createTotpVault(createEnvelope(deps.keyRing), createSealer(keys.rootSecret));
  const ctx: IdentityContext = {
    db: deps.db,
    repos: makeRepos(deps.db),
    uow: createIdentityUow(deps.db, deps.logger),
    events: deps.events,
    audit,
    cache: deps.cache,
    principals,
    revocations,
    jwt,
    registry,
    sealer: totpVault,
    settings: deps.config,
    clock,
    logger: deps.logger,
  };
  const twoFactor = createTwoFactorService(ctx);
  const auth = createAuthService(ctx, twoFactor);
  const stepUp: StepUp = (actor, code) => twoFactor.requireStepUp(actor, code);
  const users = createUsersService(ctx, auth, stepUp);
  const roles = createRolesService(ctx, stepUp);
  const apiKeys = createApiKeysService(ctx, stepUp);
  const actorOf = createActorLookup({ db: deps.db, principals, clock });
  const streamTickets = createStreamTickets({ db: deps.db, revocations, principals, actorOf, clock });
  const authenticator = {
    ...createIdentityAuthenticator({ db: deps.db, cache: deps.cache, jwt, revocations, principals, memo, audit, logger: deps.logger, clock }),
    redeemTicket: streamTickets.redeem,
    revalidate: streamTickets.revalidate,
  };

  await roles.seedBuiltins();
  await migrateLegacyTotp(deps.db, totpVault, deps.logger);
  await ensureAdmin(ctx, deps.config.adminPassword, deps.announce ?? ((text) => void process.stderr.write(text)));
  await revocations.start();
  memo.start();
  const rateLimitRedis = deps.config.redisUrl
    ? new Redis(deps.config.redisUrl, { connectionName: 'opsdeck-auth-rate-limit', maxRetriesPerRequest: 1, enableOfflineQueue: false })
    : null;
  rateLimitRedis?.on('error', (err: unknown) => deps.logger.warn({ err }, 'auth rate-limit redis error'));

  const plugins: RoutePlugin[] = [
    {
      prefix: '/api/v1',
      plugin: authRoutes({
        auth,
        users,
        twoFactor,
        audit,
        jwt,
        authenticator,
        streamTickets,
        rateLimit: { max: deps.config.authRateLimit, redis: rateLimitRedis, prefix: `${deps.config.redisPrefix}:auth-rl:` },
      }),
    },
    { prefix: '/api/v1', plugin: identityRoutes({ users, roles, apiKeys, audit, twoFactor }) },
  ];

  return {
    service: { users, auth, roles, apiKeys, twoFactor },
    authenticator,
    audit,
    plugins,
    get permissions(): readonly string[] {
      return registry.list();
    },
    /** Every module's permissions are registered here (modules.ts), so built-in roles cover them. */
    registerPermissions(list: readonly string[]): void {
      registry.register(list);
      void principals.invalidateRoles().catch((err: unknown) => deps.logger.warn({ err }, 'role cache invalidation failed'));
    },
    /** Prefetch loader of the `identity` cache namespace: the permissions of every role (the user principals load on use). */
    warmCache: () => principals.rolePermissions(),
    /** Step-up for sensitive operations: `await identity.stepUp.require(actor, code)`. */
    stepUp: { require: (actor: Actor, code: string | undefined | null) => twoFactor.requireStepUp(actor, code), header: 'x-totp-code' as const },
    /** Where a user's own notices go (the alerts module mails security events there), read through `db` (the caller's transaction); null when there is no such user. */
    async contactOf(db: Db, userId: string): Promise<{ email: string; username: string } | null> {
      const u = await makeRepos(db).users.find(userId);
      return u ? { email: u.email, username: u.username } : null;
    },
    /** The ids among `ids` that name no team (alert routing rules match on teams). */
    async unknownTeams(ids: readonly string[]): Promise<string[]> {
      const repos = makeRepos(deps.db);
      const found = await Promise.all(ids.map(async (id) => (await repos.roles.findTeam(id)) !== undefined));
      return ids.filter((_, i) => !found[i]);
    },
    /** A stored principal as it is now (`user` or `api_key`), null when disabled or revoked: job runs re-check their initiator. */
    actorOf,
    async close(): Promise<void> {
      await Promise.all([revocations.close(), memo.close()]);
      if (rateLimitRedis) await rateLimitRedis.quit().catch(() => rateLimitRedis.disconnect());
    },
  };
}

export type IdentityModule = Awaited<ReturnType<typeof createIdentityModule>>;
export { runUserCommand, describeCliError, USER_HELP } from './identity.cli.js';
