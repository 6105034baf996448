/**
 * Bench helper (not a benchmark itself): one process, one set of modules, two listening apps
 * over the same routes — one authenticating with identity, one with the platform's
 * allow-all authenticator — so `identity.bench.ts` can compare the very same request with
 * and without authentication. Prints `{"auth":url,"none":url}` once both listen.
 */
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
process.stdout.write(`${JSON.stringify({ auth, none })}\n`);
process.on('SIGTERM', () => {
  void Promise.all([withAuth.close(), withoutAuth.close()])
    .then(() => modules.close())
    .finally(() => process.exit(0));
});
