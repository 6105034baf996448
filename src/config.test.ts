import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, configTableMarkdown, describeConfig, loadConfig } from './config.js';

function errorOf(env: Record<string, string>): string {
  try {
    loadConfig(env, '/srv/opsdeck');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives a working single node with no variables set', () => {
    const c = loadConfig({}, '/srv/opsdeck');
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8000, dataDir: '/srv/opsdeck/data', mode: 'single', databaseDialect: 'sqlite', logLevel: 'info' });
    expect(c.sqlitePath).toBe('/srv/opsdeck/data/opsdeck.db');
    expect(c.roles).toEqual(['api', 'worker', 'scheduler']);
    expect(c.corsOrigins).toEqual([]);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('switches to PostgreSQL and cluster mode by URL', () => {
    const c = loadConfig({ OPSDECK_DATABASE_URL: 'postgres://u:p@db:5432/ops', OPSDECK_REDIS_URL: 'redis://cache:6379' });
    expect(c.databaseDialect).toBe('postgres');
    expect(c.mode).toBe('cluster');
  });

  it.each([
    [{ OPSDECK_PORT: 'abc' }, 'OPSDECK_PORT="abc" is invalid: expected an integer from 0 to 65535'],
    [{ OPSDECK_PORT: '70000' }, 'OPSDECK_PORT="70000" is invalid'],
    [{ OPSDECK_LOG_LEVEL: 'loud' }, 'OPSDECK_LOG_LEVEL="loud" is invalid: expected one of fatal, error, warn, info, debug, trace, silent'],
    [{ OPSDECK_DATABASE_URL: 'mysql://db/x' }, 'OPSDECK_DATABASE_URL="mysql://db/x" is invalid: expected a URL with scheme postgres:// or postgresql://'],
    [{ OPSDECK_ROLES: 'api,cook' }, 'OPSDECK_ROLES="api,cook" is invalid'],
    [{ OPSDECK_CORS_ORIGINS: 'https://a.example/path' }, 'OPSDECK_CORS_ORIGINS'],
    [{ OPSDECK_PROT: '1' }, 'OPSDECK_PROT is not a known setting'],
    [{ OPSDECK_CORS_ORIGINS: 'null' }, 'OPSDECK_CORS_ORIGINS'],
    [{ OPSDECK_CORS_ORIGINS: '*,https://ops.example.com' }, 'OPSDECK_CORS_ORIGINS must be either * alone'],
    [
      { OPSDECK_JWT_SECRET: 's'.repeat(40) },
      'OPSDECK_JWT_SECRET="********" is invalid: expected a random secret of at least 96 bits of entropy (this one repeats a pattern)',
    ],
    [{ OPSDECK_JWT_SECRET: 'changeme'.repeat(5) }, 'OPSDECK_JWT_SECRET="********" is invalid: expected a random secret'],
    [{ OPSDECK_JWT_SECRET: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab' }, 'has about 7)'],
    [
      { OPSDECK_EGRESS_ALLOW_INTERNAL: 'localhost' },
      'OPSDECK_EGRESS_ALLOW_INTERNAL="localhost" is invalid: expected a comma-separated list of addresses or CIDRs',
    ],
    [{ OPSDECK_EGRESS_DENY: '10.0.0.0/33' }, 'OPSDECK_EGRESS_DENY="10.0.0.0/33" is invalid'],
    [{ OPSDECK_EGRESS_ALLOW: 'bad host!' }, 'OPSDECK_EGRESS_ALLOW="bad host!" is invalid'],
    [{ OPSDECK_EGRESS_PRIVATE: 'maybe' }, 'OPSDECK_EGRESS_PRIVATE="maybe" is invalid: expected one of allow, deny'],
  ])('rejects %j with a line naming the variable', (env, message) => {
    const msg = errorOf(env);
    expect(msg).toContain(message);
    expect(msg).not.toContain('\n');
  });

  it('masks secrets in errors', () => {
    const msg = errorOf({ OPSDECK_JWT_SECRET: 'short-but-secret' });
    expect(msg).toContain('OPSDECK_JWT_SECRET');
    expect(msg).not.toContain('short-but-secret');
  });

  it('reports every bad variable at once', () => {
    const msg = errorOf({ OPSDECK_PORT: 'x', OPSDECK_LOG_LEVEL: 'y' });
    expect(msg).toContain('OPSDECK_PORT');
    expect(msg).toContain('OPSDECK_LOG_LEVEL');
  });

  it('reads the egress lists, checking each entry at start', () => {
    const c = loadConfig({
      OPSDECK_EGRESS_ALLOW_INTERNAL: '127.0.0.1/32, ::1',
      OPSDECK_EGRESS_DENY: '*.corp.example,10.9.0.0/16',
      OPSDECK_EGRESS_PRIVATE: 'deny',
    });
    expect(c).toMatchObject({
      egressAllowInternal: ['127.0.0.1/32', '::1'],
      egressDeny: ['*.corp.example', '10.9.0.0/16'],
      egressAllow: [],
      egressPrivate: 'deny',
    });
    expect(loadConfig({}).egressPrivate).toBe('allow');
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ OPSDECK_PORT: '', OPSDECK_DATABASE_URL: '' }).port).toBe(8000);
  });

  it('describes the effective configuration with secrets masked', () => {
    const jwt = 'Xq3v9LmR2tWz8KpN4yHb7JcF1dGs6AeU0oIiYkTn';
    const c = loadConfig({ OPSDECK_DATABASE_URL: 'postgres://ops:hunter2hunter2@db/ops', OPSDECK_JWT_SECRET: jwt });
    const d = describeConfig(c);
    expect(JSON.stringify(d)).not.toContain('hunter2');
    expect(JSON.stringify(d)).not.toContain(jwt);
    expect(d.OPSDECK_DATABASE_URL).toBe('postgres://ops:********@db/ops');
    expect(d.OPSDECK_JWT_SECRET).toBe('********');
    expect(d.OPSDECK_PORT).toBe(8000);
  });

  it('is documented in the README by the generated table', () => {
    const readme = fs.readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(configTableMarkdown());
  });
});
