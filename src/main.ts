#!/usr/bin/env node
/**
 * The command line: `opsdeck <command> [--help]` (the commands are `COMMANDS`). The only place
 * that reads process.env, prints to the console for people and exits the process.
 */
import { parseArgs } from 'node:util';
import { text as streamText } from 'node:stream/consumers';
import dotenv from 'dotenv';
import { ConfigError, describeConfig, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './platform/observability/logger.js';
import { createDatabase } from './platform/db/database.js';
import { migrateToLatest, pendingMigrations } from './platform/db/migrate.js';
import { createModules, createServer, listenersJoinEgress } from './modules.js';
import { buildHealthApp } from './app.js';
import { describeCliError, runUserCommand, USER_HELP } from './modules/identity/index.js';
import { PARSE_HELP, runParseCommand } from './modules/parsers/index.js';
import { KEYS_HELP, runKeysCommand } from './modules/credentials/index.js';
import { VERSION } from './version.js';

/** Every command: its line in `opsdeck --help` and the text of `opsdeck <command> --help`. */
const COMMANDS: Record<string, { synopsis: string; summary: string; help: string }> = {
  serve: {
    synopsis: 'serve',
    summary: 'Run the server (HTTP API; worker and scheduler roles per OPSDECK_ROLES)',
    help: `Usage: opsdeck serve

Runs the HTTP API on OPSDECK_HOST:OPSDECK_PORT, plus the roles OPSDECK_ROLES names (api, worker,
scheduler; all three by default). Pending migrations are applied at start. SIGTERM or SIGINT stops
it: HTTP first, then the workers drain, then the queue and the database close.`,
  },
  worker: {
    synopsis: 'worker',
    summary: 'Run a job worker only: role forced to worker; HTTP only for /health, /health/ready, /metrics',
    help: `Usage: opsdeck worker

Runs a job worker (the worker role only, whatever OPSDECK_ROLES says). Its only HTTP listener, on
OPSDECK_HOST:OPSDECK_WORKER_HEALTH_PORT, serves /health, /health/ready and /metrics for probes.`,
  },
  migrate: {
    synopsis: 'migrate [--dry-run]',
    summary: 'Apply pending database migrations (--dry-run lists them)',
    help: `Usage: opsdeck migrate [--dry-run]

Applies pending database migrations (on PostgreSQL under an advisory lock, so nodes starting
together migrate once). --dry-run lists the pending ones and changes nothing.`,
  },
  config: {
    synopsis: 'config',
    summary: 'Print the effective configuration, secrets masked',
    help: `Usage: opsdeck config

Prints the effective configuration (environment, .env file and defaults) as JSON, secrets masked.`,
  },
  user: { synopsis: 'user create|reset-password|disable <username>', summary: 'Manage users (opsdeck user --help)', help: USER_HELP },
  keys: {
    synopsis: 'keys generate|rotate|status',
    summary: 'Vault master keys: add one, re-wrap every data key under the newest, report usage',
    help: KEYS_HELP.trimEnd(),
  },
  configs: {
    synopsis: 'configs reindex',
    summary: 'Rebuild the configuration history index from the Git mirrors',
    help: `Usage: opsdeck configs reindex

Rebuilds the configuration history index (versions per device) from the Git mirrors of every
configuration repository, and prints the counts.`,
  },
  parse: { synopsis: 'parse --platform P --command C < output', summary: 'Parse command output into JSON records (opsdeck parse --help)', help: PARSE_HELP },
};

const HELP = `opsdeck ${VERSION} — operations console backend

Usage: opsdeck <command> [options]

Commands:
${Object.values(COMMANDS)
  .map((c) => (c.synopsis.length < 20 ? `  ${c.synopsis.padEnd(20)}${c.summary}` : `  ${c.synopsis}\n  ${' '.repeat(20)}${c.summary}`))
  .join('\n')}
  --help, -h          Show this help; opsdeck <command> --help shows the command's
  --version, -v       Show the version

Configuration comes from OPSDECK_* environment variables and an optional .env file;
see the README's configuration table.`;

function fail(message: string, code = 2): never {
  process.stderr.write(`opsdeck: ${message}\n`);
  process.exit(code);
}

function readConfig(): Config {
  dotenv.config({ path: '.env', quiet: true });
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

async function serve(config: Config, logger: Logger): Promise<void> {
  const server = await createServer(config, logger);
  await server.app.listen({ host: config.host, port: config.port });
  const address = server.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info(
    { url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`, mode: config.mode, database: config.databaseDialect },
    'opsdeck listening',
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Past the deadline, in-flight work is abandoned and the exit code says so.
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    try {
      await server.close();
      logger.info('stopped');
      logger.flush();
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/**
 * `opsdeck worker`: consumes job runs; no API, only a health listener (`/health`,
 * `/health/ready` on its database and Redis, `/metrics`) on OPSDECK_WORKER_HEALTH_PORT.
 * SIGTERM drains in-flight runs, then exits.
 */
async function worker(config: Config, logger: Logger): Promise<void> {
  const modules = await createModules(Object.freeze({ ...config, roles: ['worker' as const] }), logger);
  const health = await buildHealthApp({ logger, plugins: modules.system.healthPlugins });
  listenersJoinEgress(health.server, modules.egress.listeners);
  await health.listen({ host: config.host, port: config.workerHealthPort });
  const address = health.server.address();
  const port = typeof address === 'object' && address ? address.port : config.workerHealthPort;
  const healthUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ workerId: modules.jobs.workerId, mode: config.mode, database: config.databaseDialect, health: healthUrl }, 'opsdeck worker started');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'worker draining');
    setTimeout(() => process.exit(1), config.shutdownTimeoutMs).unref();
    await health.close().catch((err: unknown) => logger.warn({ err }, 'error closing the health listener'));
    await modules.close().catch((err: unknown) => logger.error({ err }, 'error during shutdown'));
    logger.info('stopped');
    logger.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

async function migrate(config: Config, logger: Logger, dryRun: boolean): Promise<void> {
  const database = createDatabase({
    dialect: config.databaseDialect,
    sqlitePath: config.sqlitePath,
    ...(config.databaseUrl ? { url: config.databaseUrl } : {}),
  });
  try {
    if (dryRun) {
      const pending = await pendingMigrations(database.db);
      process.stdout.write(pending.length === 0 ? 'No pending migrations.\n' : `Pending migrations:\n${pending.map((m) => `  ${m}`).join('\n')}\n`);
    } else {
      const applied = await migrateToLatest(database.db);
      process.stdout.write(applied.length === 0 ? 'Database is up to date.\n' : `Applied:\n${applied.map((m) => `  ${m}`).join('\n')}\n`);
      logger.debug({ applied }, 'migrations applied');
    }
  } finally {
    await database.destroy();
  }
}

/**
 * A one-shot command plays no role: it must not consume job runs, claim schedule ticks or sweep
 * expiries that belong to the running server (modules gate every consumer on `roles`).
 */
function cliConfig(config: Config): Config {
  return Object.freeze({ ...config, roles: [] });
}

async function userCommand(config: Config, logger: Logger, args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { email: { type: 'string' }, role: { type: 'string', multiple: true }, 'password-stdin': { type: 'boolean' } },
  });
  const password = values['password-stdin'] ? (await streamText(process.stdin)).replace(/\r?\n$/, '') : undefined;
  const modules = await createModules(cliConfig(config), logger);
  try {
    const out = await runUserCommand(modules.identity, {
      action: positionals[0],
      username: positionals[1],
      email: values.email,
      roles: values.role ?? [],
      ...(password !== undefined ? { password } : {}),
    });
    process.stdout.write(out);
  } catch (err) {
    process.stderr.write(`opsdeck: ${describeCliError(err)}\n`);
    process.exitCode = 1;
  } finally {
    await modules.close();
  }
}

async function configsCommand(config: Config, logger: Logger, args: string[]): Promise<void> {
  if (args[0] !== 'reindex') fail(args[0] ? `unknown configs command '${args[0]}'. Usage: opsdeck configs reindex` : 'usage: opsdeck configs reindex');
  const modules = await createModules(cliConfig(config), logger);
  try {
    const r = await modules.configs.history.reindex();
    process.stdout.write(`Reindexed ${r.repositories} repositories: ${r.versions} configuration versions.\n`);
  } finally {
    await modules.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' }, 'dry-run': { type: 'boolean' } },
  });
  const command = positionals[0];
  if (values.version) return void process.stdout.write(`${VERSION}\n`);
  if (!command) return void process.stdout.write(`${HELP}\n`);
  if (!Object.hasOwn(COMMANDS, command)) fail(`unknown command '${command}'. Run 'opsdeck --help'.`);
  if (values.help) return void process.stdout.write(`${COMMANDS[command]!.help}\n`);

  const config = readConfig();
  const logger = createLogger({ level: config.logLevel, pretty: config.logPretty });
  switch (command) {
    case 'serve':
      return serve(config, logger);
    case 'worker':
      return worker(config, logger);
    case 'migrate':
      return migrate(config, logger, values['dry-run'] === true);
    case 'parse': {
      const r = await runParseCommand(argv.slice(argv.indexOf('parse') + 1), {
        libraryDirs: config.textfsmLibraryDirs,
        stdinIsTty: process.stdin.isTTY === true,
        readStdin: () => streamText(process.stdin),
      });
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      return void (process.exitCode = r.code);
    }
    case 'configs':
      return configsCommand(config, logger, positionals.slice(1));
    case 'config':
      return void process.stdout.write(`${JSON.stringify(describeConfig(config), null, 2)}\n`);
    case 'user':
      return userCommand(config, logger, argv.slice(argv.indexOf('user') + 1));
    case 'keys': {
      const r = await runKeysCommand(positionals.slice(1), config, logger);
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      return void (process.exitCode = r.code);
    }
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  fail(err instanceof Error ? err.message : String(err), err instanceof ConfigError ? 2 : 1);
});
