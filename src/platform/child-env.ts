/**
 * Variables a child process may see: what a command needs to find programs and format text.
 * Everything else (OPSDECK_MASTER_KEY, OPSDECK_JWT_SECRET, OPSDECK_DATABASE_URL,
 * OPSDECK_ADMIN_PASSWORD, cloud tokens of the host…) stays in the server: a child's
 * environment is readable in /proc/<pid>/environ by its user and printable by the command.
 */
const PASSED = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'LC_MESSAGES', 'TZ', 'TMPDIR', 'TERM'] as const;

/** The explicit, minimal environment for every child process the server starts. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  return { ...env, ...extra };
}
