import { AppError, ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { newId, nowIso } from '../../platform/ids.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import type { IdentityContext, IdentityRepos } from './identity.context.js';
import { newRecoveryCode, normaliseRecoveryCode, sha256 } from './secrets.fns.js';
import { checkTotp, isTotpCode, newTotpSecret, totpUri } from './totp.fns.js';
import type { UserCredentials } from './users.repository.js';

export const RECOVERY_CODE_COUNT = 10;
/** Header carrying a fresh TOTP code for step-up on sensitive routes. */
export const STEP_UP_HEADER = 'x-totp-code';

/** The user a user or API-key actor acts for; null for the system. */
export function actingUserId(actor: Actor): string | null {
  return actor.kind === 'user' ? actor.id : (actor.userId ?? null);
}

/** What createTwoFactorService uses of the identity context. */
export type TwoFactorDeps = Pick<IdentityContext, 'db' | 'repos' | 'uow' | 'audit' | 'principals' | 'sealer' | 'settings' | 'clock'>;

/** TOTP enrolment, recovery codes, second-factor checks and step-up. */
export function createTwoFactorService(ctx: TwoFactorDeps) {
  /** Accepts a current TOTP code (once: the time step is consumed) or an unused recovery code. */
  async function verifySecondFactor(repos: IdentityRepos, user: UserCredentials, code: string): Promise<'totp' | 'recovery' | null> {
    if (!user.totpSecret) return null;
    if (isTotpCode(code)) {
      const secret = ctx.sealer.open(user.totpSecret, user.id);
      const step = await checkTotp(secret, code, user.totpLastStep, ctx.clock());
      return step !== null && (await repos.users.consumeTotpStep(user.id, step)) ? 'totp' : null;
    }
    const used = await repos.users.useRecoveryCode(user.id, sha256(normaliseRecoveryCode(code)), nowIso(ctx.clock));
    return used ? 'recovery' : null;
  }

  async function newRecoveryCodes(repos: IdentityRepos, userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await repos.users.replaceRecoveryCodes(
      userId,
      codes.map((c) => ({ id: newId(), codeHash: sha256(c) })),
    );
    return codes;
  }

  async function self(actor: Actor): Promise<UserCredentials> {
    requirePermission(actor, 'account:manage');
    const id = actor.kind === 'user' ? actor.id : null;
    if (!id) throw new ValidationError('ACCOUNT_USER_REQUIRED', 'Only a signed-in user can manage two-factor authentication');
    const user = await ctx.repos.users.findCredentials(id);
    if (!user) throw new NotFoundError('USER_NOT_FOUND', 'The user does not exist');
    return user;
  }

  /**
   * Step-up for sensitive operations (admin-right API keys and users, role changes, removing
   * 2FA, revealing secrets): the acting session must have proved its password within
   * OPSDECK_STEP_UP_WINDOW_SECONDS (401 REAUTH_REQUIRED: POST /auth/reauth), an API key never
   * qualifies, and a user with 2FA must also send a fresh code (body or x-totp-code header):
   * 401 STEP_UP_REQUIRED without one, 403 STEP_UP_FAILED for a wrong or reused one. The
   * system actor (CLI, start-up) is not a session and passes.
   */
  async function requireStepUp(actor: Actor, given?: string | null): Promise<void> {
    if (actor.kind === 'system') return;
    const refuse = (action: string) => ctx.audit.recordDenied({ actor, action, resourceType: 'user', resourceId: actor.userId ?? actor.id });
    if (actor.kind !== 'user') {
      await refuse('auth.step_up.api_key_refused');
      throw new AppError('REAUTH_REQUIRED', 401, 'This operation needs a recent interactive sign-in; an API key cannot perform it');
    }
    const window = ctx.settings.stepUpWindowSeconds;
    if (actor.authAt === undefined || Math.floor(ctx.clock() / 1000) - actor.authAt > window) {
      await refuse('auth.step_up.reauth_required');
      throw new AppError(
        'REAUTH_REQUIRED',
        401,
        `This operation needs a sign-in younger than ${window} s: POST /api/v1/auth/reauth with your password (and TOTP code)`,
      );
    }
    const userId = actor.id;
    const user = await ctx.repos.users.findCredentials(userId);
    if (!user?.totpEnabled) return;
    const code = given ?? actor.stepUpCode;
    if (!code) {
      await refuse('auth.step_up.code_required');
      throw new AppError('STEP_UP_REQUIRED', 401, `This operation needs a current two-factor code (send it in the ${STEP_UP_HEADER} header)`);
    }
    const ok = (await verifySecondFactor(ctx.repos, user, code)) !== null;
    if (!ok) {
      await ctx.audit.record(ctx.db, { actor, action: 'auth.step_up.failed', resourceType: 'user', resourceId: userId, outcome: 'failure' });
      throw new AppError('STEP_UP_FAILED', 403, 'The two-factor code is wrong, expired or already used');
    }
  }

  return {
    verifySecondFactor,

    /** Starts enrolment: a new secret is held pending until a first code confirms it. */
    async enrol(actor: Actor): Promise<{ secret: string; otpauth_uri: string }> {
      const user = await self(actor);
      if (user.totpEnabled) throw new ConflictError('TOTP_ALREADY_ENABLED', 'Two-factor authentication is already on; disable it first');
      const secret = newTotpSecret();
      await ctx.uow(async (repos) => {
        await repos.users.update(user.id, { totpPendingSecret: ctx.sealer.seal(secret, user.id) }, nowIso(ctx.clock));
        await ctx.audit.record(repos.db, { actor, action: 'auth.2fa.enrolment_started', resourceType: 'user', resourceId: user.id, outcome: 'success' });
      });
      return { secret, otpauth_uri: totpUri(secret, user.username) };
    },

    async confirm(actor: Actor, code: string): Promise<{ recovery_codes: string[] }> {
      const user = await self(actor);
      if (user.totpEnabled) throw new ConflictError('TOTP_ALREADY_ENABLED', 'Two-factor authentication is already on');
      if (!user.totpPendingSecret) throw new ValidationError('TOTP_NOT_ENROLLING', 'Start enrolment first (POST /auth/2fa/enrol)');
      const secret = ctx.sealer.open(user.totpPendingSecret, user.id);
      const step = await checkTotp(secret, code, null, ctx.clock());
      if (step === null) {
        throw new ValidationError('TOTP_INVALID', 'The code is wrong or expired', [{ path: 'body.code', message: 'does not match the authenticator' }]);
      }
      const codes = await ctx.uow(async (repos, tx) => {
        await repos.users.update(user.id, { totpSecret: user.totpPendingSecret, totpPendingSecret: null, totpLastStep: step }, nowIso(ctx.clock));
        const out = await newRecoveryCodes(repos, user.id);
        await ctx.audit.record(repos.db, { actor, action: 'auth.2fa.enabled', resourceType: 'user', resourceId: user.id, outcome: 'success' });
        tx.afterCommit(() => ctx.principals.invalidateUser(user.id));
        return out;
      });
      return { recovery_codes: codes };
    },

    /** Turns 2FA off for oneself (needs a current code) or, with `users:admin`, for anyone. */
    async disable(actor: Actor, userId: string | null, code: string | undefined): Promise<void> {
      const user = userId === null ? await self(actor) : await ctx.repos.users.findCredentials(userId);
      if (userId !== null) {
        requirePermission(actor, 'users:admin');
        await requireStepUp(actor);
      }
      if (!user) throw new NotFoundError('USER_NOT_FOUND', 'The user does not exist');
      if (!user.totpEnabled) throw new ConflictError('TOTP_NOT_ENABLED', 'Two-factor authentication is not on');
      await ctx.uow(async (repos, tx) => {
        if (userId === null && (!code || !(await verifySecondFactor(repos, user, code)))) {
          throw new ValidationError('TOTP_INVALID', 'A current code is needed to turn two-factor authentication off', [
            { path: 'body.code', message: 'does not match' },
          ]);
        }
        await repos.users.update(user.id, { totpSecret: null, totpPendingSecret: null, totpLastStep: null }, nowIso(ctx.clock));
        await repos.users.replaceRecoveryCodes(user.id, []);
        await ctx.audit.record(repos.db, { actor, action: 'auth.2fa.disabled', resourceType: 'user', resourceId: user.id, outcome: 'success' });
        tx.afterCommit(() => ctx.principals.invalidateUser(user.id));
      });
    },

    async regenerateRecoveryCodes(actor: Actor, code: string): Promise<{ recovery_codes: string[] }> {
      const user = await self(actor);
      if (!user.totpEnabled) throw new ConflictError('TOTP_NOT_ENABLED', 'Two-factor authentication is not on');
      const codes = await ctx.uow(async (repos) => {
        if ((await verifySecondFactor(repos, user, code)) !== 'totp') {
          throw new ValidationError('TOTP_INVALID', 'A current authenticator code is needed', [{ path: 'body.code', message: 'does not match' }]);
        }
        const out = await newRecoveryCodes(repos, user.id);
        await ctx.audit.record(repos.db, {
          actor,
          action: 'auth.2fa.recovery_codes_regenerated',
          resourceType: 'user',
          resourceId: user.id,
          outcome: 'success',
        });
        return out;
      });
      return { recovery_codes: codes };
    },

    requireStepUp,
  };
}
export type TwoFactorService = ReturnType<typeof createTwoFactorService>;
