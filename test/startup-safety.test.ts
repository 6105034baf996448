import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runOpsdeck } from './helpers/process.js';
import { TEST_JWT_SECRET, TEST_MASTER_KEY } from './helpers/server.js';
import { testRedisClient } from './helpers/redis.js';
import { freeTcpPort } from './peers/ports.js';

/** Start-up refuses configuration that would lose data or open the API, with one clear line. */
describe('start-up refuses unsafe configuration', () => {
  it('a cluster on a Redis that evicts keys', async () => {
    const port = await freeTcpPort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-evicting-'));
    const redis = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--maxmemory-policy', 'allkeys-lru'],
      { stdio: 'ignore' },
    );
    try {
      const url = `redis://127.0.0.1:${port}`;
      const probe = testRedisClient(url);
      for (let i = 0; i < 100; i++) {
        try {
          await probe.connect();
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      probe.disconnect();
      const p = runOpsdeck(['serve'], {
        OPSDECK_DATA_DIR: dir,
        OPSDECK_REDIS_URL: url,
        OPSDECK_JWT_SECRET: TEST_JWT_SECRET,
        OPSDECK_MASTER_KEY: TEST_MASTER_KEY,
        OPSDECK_PORT: '0',
      });
      expect(await p.exited).toBe(2);
      expect(p.stderr()).toContain('Redis maxmemory-policy is allkeys-lru: cluster mode needs noeviction');
    } finally {
      redis.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a JWT secret of low entropy, and CORS * mixed with named origins', async () => {
    const p = runOpsdeck(['serve'], { OPSDECK_JWT_SECRET: 'changeme'.repeat(5), OPSDECK_CORS_ORIGINS: '*,https://ops.example.com', OPSDECK_PORT: '0' });
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toContain('OPSDECK_JWT_SECRET="********" is invalid: expected a random secret');
    expect(p.stderr()).toContain('OPSDECK_CORS_ORIGINS must be either * alone');
    expect(p.stderr()).not.toContain('changeme');
  });
});
