/**
 * Bench helper (not a benchmark itself): one process, one set of modules, two listening apps
 * over the same routes — one authenticating with identity, one with the platform's
 * allow-all authenticator — so `identity.bench.ts` can compare the very same request with
 * and without authentication. Prints `{"auth":url,"none":url,"cpu":url}` once they listen;
 * `cpu` answers this process's CPU time in microseconds (user + system), so the bench can
 * charge each slice the CPU it cost here, which other processes' load hardly changes.
 */
import http from 'node:http';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createModules } from '../src/modules.js';
import { allowAllAuthenticator } from '../src/platform/http/auth.js';
import { createLogger } from '../src/platform/observability/logger.js';
import { VERSION } from '../src/version.js';

const config = loadConfig(process.env);
const logger = createLogger({ level: 'warn', pretty: false });
const modules = await createModules(config, logger);
const make = (authenticator: typeof allowAllAuthenticator) =>
  buildApp({ config, logger, metrics: modules.metrics, authenticator, plugins: modules.plugins, version: VERSION });
const withAuth = await make(modules.authenticator);
const withoutAuth = await make(allowAllAuthenticator);
const auth = await withAuth.listen({ host: '127.0.0.1', port: 0 });
const none = await withoutAuth.listen({ host: '127.0.0.1', port: 0 });
const cpuServer = http.createServer((_req, res) => {
  const used = process.cpuUsage();
  res.end(String(used.user + used.system));
});
await new Promise<void>((resolve) => cpuServer.listen(0, '127.0.0.1', resolve));
const cpu = `http://127.0.0.1:${(cpuServer.address() as { port: number }).port}`;
process.stdout.write(`${JSON.stringify({ auth, none, cpu })}\n`);
process.on('SIGTERM', () => {
  cpuServer.close();
  void Promise.all([withAuth.close(), withoutAuth.close()])
    .then(() => modules.close())
    .finally(() => process.exit(0));
});
