import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, type Config } from '../../config.js';
import { newId, nowIso } from '../../platform/ids.js';
import { SYSTEM_ACTOR } from '../../platform/http/auth.js';
import { ensurePrivateDir } from '../../platform/private-files.js';
import type { IdentityContext } from './identity.context.js';
import type { JwtKeys } from './jwt.js';
import { hashPassword, passwordProblems } from './password.fns.js';
import { generatePassword, randomToken } from './secrets.fns.js';

export type KeyConfig = Pick<Config, 'mode' | 'dataDir' | 'jwtSecret' | 'jwtAlgorithm' | 'jwtPrivateKeyFile' | 'jwtIssuer'>;

/**
 * The identity root secret (HS256 signing, TOTP-seed sealing) and the JWT keys. A single node
 * without OPSDECK_JWT_SECRET generates one into the data directory (0600) once; a cluster
 * must configure it, or nodes would sign with different secrets.
 */
export function resolveKeys(config: KeyConfig): { jwt: JwtKeys; rootSecret: string } {
  let rootSecret = config.jwtSecret;
  if (!rootSecret) {
    if (config.mode === 'cluster') {
      throw new ConfigError([
        'OPSDECK_JWT_SECRET is required in cluster mode (OPSDECK_REDIS_URL is set): every node must share it (at least 32 characters, e.g. openssl rand -base64 48)',
      ]);
    }
    const file = path.join(config.dataDir, 'jwt-secret');
    ensurePrivateDir(config.dataDir);
    try {
      // 'wx' fails if the file exists, so two processes starting at once keep one secret.
      fs.writeFileSync(file, randomToken(48), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    rootSecret = fs.readFileSync(file, 'utf8').trim();
  }
  if (config.jwtAlgorithm === 'HS256') return { jwt: { algorithm: 'HS256', secret: rootSecret, issuer: config.jwtIssuer }, rootSecret };
  if (!config.jwtPrivateKeyFile) throw new ConfigError([`OPSDECK_JWT_PRIVATE_KEY_FILE is required with OPSDECK_JWT_ALGORITHM=${config.jwtAlgorithm}`]);
  let pem: string;
  try {
    pem = fs.readFileSync(path.resolve(config.jwtPrivateKeyFile), 'utf8');
  } catch (err) {
    throw new ConfigError([`OPSDECK_JWT_PRIVATE_KEY_FILE cannot be read: ${(err as Error).message}`]);
  }
  return { jwt: { algorithm: config.jwtAlgorithm, privateKeyPem: pem, issuer: config.jwtIssuer }, rootSecret };
}

export function banner(password: string): string {
  const line = '='.repeat(72);
  return `\n${line}\n  Opsdeck first start: created user 'admin' with this generated password.\n  It is shown ONCE, and must be changed at first sign-in (POST /api/v1/auth/password).\n\n      ${password}\n\n${line}\n\n`;
}

/** What ensureAdmin uses of the identity context. */
export type BootstrapDeps = Pick<IdentityContext, 'repos' | 'uow' | 'audit' | 'settings' | 'clock' | 'logger'>;

/**
 * First start: when there is no user, creates `admin` with OPSDECK_ADMIN_PASSWORD or a
 * generated password announced once (a banner on the terminal's standard error, never the log
 * stream) that must be changed at first sign-in. Only the node whose
 * insert wins announces, so a cluster starting together prints it once.
 */
export async function ensureAdmin(ctx: BootstrapDeps, adminPassword: string | undefined, announce: (text: string) => void): Promise<void> {
  if ((await ctx.repos.users.count()) > 0) return;
  const password = adminPassword ?? generatePassword();
  const problems = await passwordProblems(password, { minLength: ctx.settings.passwordMinLength, username: 'admin' });
  if (adminPassword && problems.length > 0) throw new ConfigError([`OPSDECK_ADMIN_PASSWORD ${problems.map((p) => p.message).join(', ')}`]);
  const hash = await hashPassword(password);
  const created = await ctx.uow(async (repos) => {
    const id = newId();
    if (
      !(await repos.users.insertIfAbsent({
        id,
        username: 'admin',
        email: 'admin@opsdeck.invalid',
        displayName: 'Administrator',
        passwordHash: hash,
        mustChangePassword: adminPassword === undefined,
        now: nowIso(ctx.clock),
      }))
    ) {
      return false;
    }
    const [admin] = await repos.roles.findByNames(['admin']);
    await repos.users.setRoles(id, [admin!.id]);
    await ctx.audit.record(repos.db, {
      actor: SYSTEM_ACTOR,
      action: 'user.created',
      resourceType: 'user',
      resourceId: id,
      outcome: 'success',
      changes: { username: 'admin', first_start: true, source: adminPassword ? 'OPSDECK_ADMIN_PASSWORD' : 'generated' },
    });
    return true;
  });
  if (created) {
    if (adminPassword) ctx.logger.info({ user: 'admin' }, 'first start: admin user created from OPSDECK_ADMIN_PASSWORD');
    else announce(banner(password));
  }
}
