import { AppError } from '../../platform/errors.js';
import { SYSTEM_ACTOR, type Actor } from '../../platform/http/auth.js';
import type { IdentityModule } from './index.js';
import { generatePassword } from './secrets.fns.js';

export const USER_HELP = `Usage:
  opsdeck user create <username> --email <email> [--role <role>]… [--password-stdin]
  opsdeck user reset-password <username> [--password-stdin]
  opsdeck user disable <username>

Without --password-stdin a strong password is generated and printed once.
reset-password makes the user choose a new password at next sign-in.`;

export interface UserCommand {
  action: string | undefined;
  username: string | undefined;
  email?: string;
  roles: string[];
  /** The password read from standard input, when --password-stdin was given. */
  password?: string;
}

/** The CLI acts as the system, named so in the audit log. */
const CLI_ACTOR: Actor = { ...SYSTEM_ACTOR, name: 'cli' };

/**
 * `opsdeck user …`: returns the text to print. Errors are AppErrors with field details,
 * which main.ts prints on one line each.
 */
export async function runUserCommand(identity: IdentityModule, cmd: UserCommand): Promise<string> {
  const { users } = identity.service;
  if (!cmd.username) throw new AppError('CLI_USAGE', 2, USER_HELP);
  switch (cmd.action) {
    case 'create': {
      if (!cmd.email) throw new AppError('CLI_USAGE', 2, `--email is required\n${USER_HELP}`);
      const password = cmd.password ?? generatePassword();
      const user = await users.create(CLI_ACTOR, { username: cmd.username, email: cmd.email, password, roles: cmd.roles.length > 0 ? cmd.roles : ['viewer'] });
      return `Created user '${user.username}' (${user.id}) with role(s) ${user.roles.join(', ')}.\n${cmd.password ? '' : `Password (shown once): ${password}\n`}`;
    }
    case 'reset-password': {
      const id = await users.idByUsername(cmd.username);
      const password = cmd.password ?? generatePassword();
      await users.resetPassword(CLI_ACTOR, id, password);
      return `Password of '${cmd.username}' reset; they must change it at next sign-in. Their sessions were revoked.\n${cmd.password ? '' : `Temporary password (shown once): ${password}\n`}`;
    }
    case 'disable': {
      const id = await users.idByUsername(cmd.username);
      await users.update(CLI_ACTOR, id, { status: 'disabled' });
      return `User '${cmd.username}' disabled; their sessions were revoked.\n`;
    }
    default:
      throw new AppError('CLI_USAGE', 2, USER_HELP);
  }
}

/** One line per problem, naming the field (never the password). */
export function describeCliError(err: unknown): string {
  if (err instanceof AppError) {
    const fields = err.errors.map((e) => `  ${e.path.replace(/^body\./, '')}: ${e.message}`);
    return [err.message, ...fields].join('\n');
  }
  return err instanceof Error ? err.message : String(err);
}
