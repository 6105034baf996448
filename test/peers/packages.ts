/**
 * The one list of Debian packages the test suite needs, and the check that installs what is
 * missing (as root) or fails at once saying what to install. test/global-setup.ts runs it before
 * any test file, so `npm test` and `npx vitest run <file>` both work on a fresh machine.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface TestPackage {
  /** Debian package name */
  name: string;
  /** What the package puts on the machine: an absolute path (one `*` segment allowed) or a command on PATH. */
  provides: string;
  /** Why it is listed: the code that runs it. */
  usedBy: string;
  /** The service Debian starts on install; it is stopped again (the tests run their own instances). */
  service?: string;
  /** When this environment variable is set the package is not needed (the tests use what it names). */
  unlessEnv?: string;
}

export const TEST_PACKAGES: readonly TestPackage[] = [
  {
    name: 'postgresql',
    provides: '/usr/lib/postgresql/*/bin/initdb',
    usedBy: 'the throwaway PostgreSQL (test/peers/services.ts)',
    service: 'postgresql',
    unlessEnv: 'OPSDECK_TEST_PG_URL',
  },
  { name: 'redis-server', provides: 'redis-server', usedBy: 'the throwaway Redis; test/jobs/cluster.test.ts restarts its own', service: 'redis-server' },
  { name: 'openssh-server', provides: '/usr/sbin/sshd', usedBy: 'test/peers/sshd.ts', service: 'ssh' },
  { name: 'openssh-client', provides: 'ssh-keygen', usedBy: 'test/peers/sshd.ts (host and user keys)' },
  { name: 'snmpd', provides: '/usr/sbin/snmpd', usedBy: 'test/peers/snmpd.ts', service: 'snmpd' },
  { name: 'iputils-ping', provides: 'ping', usedBy: 'the ping executor (src/modules/jobs/executors/ping.ts)' },
  { name: 'prometheus', provides: 'promtool', usedBy: 'test/health.test.ts (promtool check metrics)', service: 'prometheus' },
  { name: 'chromium', provides: '/usr/bin/chromium', usedBy: 'test/helpers/chromium.ts (the /docs browser tests)', unlessEnv: 'OPSDECK_TEST_CHROMIUM' },
  { name: 'ansible-core', provides: 'ansible-inventory', usedBy: 'src/modules/inventory/inventory.integrations.test.ts' },
  { name: 'procps', provides: 'ps', usedBy: 'test/jobs/jobs-api.test.ts' },
  { name: 'git', provides: '/usr/lib/git-core/git-http-backend', usedBy: 'test/peers/git-servers.ts (git daemon, git http-backend) and the configs module' },
  { name: 'curl', provides: 'curl', usedBy: 'test/docs-examples.test.ts (the README examples)' },
  { name: 'jq', provides: 'jq', usedBy: 'test/docs-examples.test.ts (the README examples)' },
  {
    name: 'openssl',
    provides: 'openssl',
    usedBy: 'test/docs-examples.test.ts (the README examples), src/modules/alerts/channels.push.test.ts (the APNs stand-in certificate)',
  },
  { name: 'qemu-utils', provides: 'qemu-img', usedBy: 'the images library and the qemu_convert executor (src/modules/files/qemu.ts, images.api.test.ts)' },
];

/** Resolves `provides` to an existing file, or undefined. */
export function locate(provides: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!provides.includes('/')) {
    const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
    return dirs.map((d) => path.join(d, provides)).find(isExecutable);
  }
  const star = provides.split('/').indexOf('*');
  if (star < 0) return isExecutable(provides) ? provides : undefined;
  const parts = provides.split('/');
  const parent = parts.slice(0, star).join('/') || '/';
  const entries = fs.existsSync(parent) ? fs.readdirSync(parent).sort((a, b) => b.localeCompare(a, 'en', { numeric: true })) : [];
  return entries.map((e) => [...parts.slice(0, star), e, ...parts.slice(star + 1)].join('/')).find(isExecutable);
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The packages of `list` that this environment needs and does not have. */
export function missingPackages(env: NodeJS.ProcessEnv = process.env, list: readonly TestPackage[] = TEST_PACKAGES): TestPackage[] {
  return list.filter((p) => !(p.unlessEnv && env[p.unlessEnv]) && locate(p.provides, env) === undefined);
}

export function installCommand(packages: readonly TestPackage[]): string {
  return `apt-get update && apt-get install -y --no-install-recommends ${packages.map((p) => p.name).join(' ')}`;
}

/** The one message for a machine where the tests cannot install what they need themselves. */
export function missingMessage(packages: readonly TestPackage[], why: string): string {
  const what = packages.map((p) => `${p.provides.split('/').pop()} (${p.name})`).join(', ');
  return `The tests need ${what}, which ${packages.length === 1 ? 'is' : 'are'} not installed, and ${why}. Install with: sudo sh -c '${installCommand(packages)}'`;
}

/** An error whose whole text is the message (no stack: the message says everything). */
class MissingPackagesError extends Error {
  override name = 'MissingPackagesError';
  constructor(message: string) {
    super(message);
    this.stack = message;
  }
}

/**
 * Installs the missing packages with apt-get when running as root, then stops the daemons Debian
 * started on install; otherwise throws one message naming them and the command to run.
 */
export function ensureTestPackages(env: NodeJS.ProcessEnv = process.env, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): void {
  const missing = missingPackages(env);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new MissingPackagesError(missingMessage(missing, 'this user is not root'));
  if (locate('apt-get', { PATH: `${env.PATH ?? ''}:/usr/bin:/usr/sbin` }) === undefined) {
    throw new MissingPackagesError(missingMessage(missing, 'apt-get is not available'));
  }
  log(`test peers: installing ${missing.map((p) => p.name).join(' ')} (apt-get)`);
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args: string[]) => execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], { env: aptEnv, stdio: ['ignore', 'ignore', 'inherit'] });
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', '--no-install-recommends', ...missing.map((p) => p.name)]);
  for (const p of missing) {
    if (!p.service) continue;
    try {
      execFileSync('service', [p.service, 'stop'], { stdio: 'ignore', env: aptEnv });
    } catch {
      // not running (no init system, or policy-rc.d kept it from starting)
    }
  }
  const still = missingPackages(env);
  if (still.length > 0) throw new MissingPackagesError(missingMessage(still, 'apt-get did not install them'));
}
