import { redisTestUrl } from './redis.js';

/**
 * The test Redis on its own logical database. NOTE: the platform cache keys role permissions
 * without a deployment prefix, so servers of other test files (other code, other databases)
 * sharing Redis database 0 can serve each other's role permissions; pub/sub stays shared, which
 * only means extra wake-ups here.
 */
export function isolatedRedisUrl(db: number): string {
  const u = new URL(redisTestUrl());
  u.pathname = `/${db}`;
  return u.toString();
}
