import type { FastifyPluginAsync } from 'fastify';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { allowAllAuthenticator, type Authenticator } from '../../src/platform/http/auth.js';
import { createLogger } from '../../src/platform/observability/logger.js';
import { createMetrics } from '../../src/platform/observability/metrics.js';
import { LogCapture } from './server.js';

/** A bare app with only the given plugins: for testing platform HTTP behaviour in isolation. */
export async function buildPlainApp(
  plugins: { prefix: string; plugin: FastifyPluginAsync }[],
  options: { env?: Record<string, string>; authenticator?: Authenticator } = {},
): Promise<{ app: App; logs: LogCapture }> {
  const logs = new LogCapture();
  const config = loadConfig(options.env ?? {});
  const app = await buildApp({
    config,
    logger: createLogger({ level: 'info', destination: logs }),
    metrics: createMetrics(),
    authenticator: options.authenticator ?? allowAllAuthenticator,
    plugins,
    version: 'test',
  });
  return { app, logs };
}
