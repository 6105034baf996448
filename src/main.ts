#!/usr/bin/env node
/**
 * The command line: `opsdeck serve | migrate [--dry-run] | config | --help`. The only place
 * that reads process.env, prints to the console for people and exits the process.
 */
import { parseArgs } from 'node:util';
import dotenv from 'dotenv';
import { ConfigError, describeConfig, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './platform/observability/logger.js';
import { createDatabase } from './platform/db/database.js';
import { migrateToLatest, pendingMigrations } from './platform/db/migrate.js';
import { createServer } from './modules.js';
import { VERSION } from './version.js';

const HELP = `opsdeck ${VERSION} — operations console backend

Usage: opsdeck <command> [options]

Commands:
  serve               Run the server (HTTP API; worker and scheduler roles per OPSDECK_ROLES)
  migrate [--dry-run] Apply pending database migrations (--dry-run lists them)
  config              Print the effective configuration, secrets masked
  --help, -h          Show this help
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
  logger.info({ url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`, mode: config.mode, database: config.databaseDialect }, 'opsdeck listening');

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

async function migrate(config: Config, logger: Logger, dryRun: boolean): Promise<void> {
  const database = createDatabase({ dialect: config.databaseDialect, sqlitePath: config.sqlitePath, ...(config.databaseUrl ? { url: config.databaseUrl } : {}) });
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

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' }, 'dry-run': { type: 'boolean' } },
  });
  const command = positionals[0];
  if (values.version) return void process.stdout.write(`${VERSION}\n`);
  if (values.help || !command) return void process.stdout.write(`${HELP}\n`);

  const config = readConfig();
  const logger = createLogger({ level: config.logLevel, pretty: config.logPretty });
  switch (command) {
    case 'serve':
      return serve(config, logger);
    case 'migrate':
      return migrate(config, logger, values['dry-run'] === true);
    case 'config':
      return void process.stdout.write(`${JSON.stringify(describeConfig(config), null, 2)}\n`);
    default:
      fail(`unknown command '${command}'. Run 'opsdeck --help'.`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  fail(err instanceof Error ? err.message : String(err), 1);
});
