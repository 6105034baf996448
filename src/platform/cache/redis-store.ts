import type { Redis } from 'ioredis';

/**
 * The L2 tier: values, tag sets and tag epochs in Redis.
 *
 * Layout under `prefix`: `cache:v:<key>` holds `<tags JSON>\n<value JSON>` (JSON.stringify
 * never emits a raw newline, so the first one splits them); `cache:t:<tag>` is the SET of keys
 * once stored with the tag; `cache:e:<tag>` counts invalidations of the tag.
 *
 * A tag set is allowed to hold keys that were since overwritten without the tag or deleted:
 * invalidation checks each key's own tag list before deleting it, which keeps `set` and
 * `delete` to one round trip each. The set expires with its longest-lived entry.
 *
 * NOTE: the invalidation script touches keys it reads from the tag set rather than declaring
 * them, which standalone Redis and Sentinel allow and Redis Cluster does not.
 */
const SET_SCRIPT = `
local n = tonumber(ARGV[4])
if ARGV[5] == '1' then
  for i = 1, n do
    if (redis.call('GET', KEYS[n + 1 + i]) or '') ~= ARGV[5 + i] then return 0 end
  end
end
local ttl = tonumber(ARGV[2])
if ttl > 0 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl) else redis.call('SET', KEYS[1], ARGV[1]) end
for i = 1, n do
  local tk = KEYS[1 + i]
  local existed = redis.call('EXISTS', tk)
  redis.call('SADD', tk, ARGV[3])
  if ttl == 0 then
    redis.call('PERSIST', tk)
  elseif existed == 0 then
    redis.call('PEXPIRE', tk, ttl)
  else
    local current = redis.call('PTTL', tk)
    if current >= 0 and current < ttl then redis.call('PEXPIRE', tk, ttl) end
  end
end
return 1
`;

const INVALIDATE_SCRIPT = `
local members = redis.call('SMEMBERS', KEYS[1])
for _, member in ipairs(members) do
  local vk = ARGV[1] .. member
  local payload = redis.call('GET', vk)
  if payload then
    local nl = string.find(payload, '\\n', 1, true)
    local ok, tags = false, nil
    if nl then ok, tags = pcall(cjson.decode, string.sub(payload, 1, nl - 1)) end
    if not ok or type(tags) ~= 'table' then
      redis.call('DEL', vk)
    else
      for _, t in ipairs(tags) do
        if t == ARGV[2] then redis.call('DEL', vk) break end
      end
    end
  end
end
redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return #members
`;

/** Epochs outlive any load by far; an expired epoch reads as '' and only fails a guard (safe side). */
const EPOCH_TTL_MS = 24 * 60 * 60 * 1000;

export interface StoredEntry {
  value: unknown;
  tags: string[];
  /** Remaining lifetime, undefined when the entry does not expire. */
  ttlMs: number | undefined;
}

export interface L2Read {
  entry: StoredEntry | undefined;
  /** Epochs of the requested tags at read time ('' = never invalidated), for a guarded write. */
  epochs: string[];
}

type ScriptCall = (...args: (string | number)[]) => Promise<number>;

export function encodeEntry(value: unknown, tags: readonly string[]): string {
  const json = JSON.stringify(value);
  if (json === undefined) {
    throw new TypeError('cache value is not JSON-serialisable');
  }
  return `${JSON.stringify(tags)}\n${json}`;
}

function decodeEntry(payload: string, pttl: number): StoredEntry {
  const split = payload.indexOf('\n');
  return {
    tags: JSON.parse(payload.slice(0, split)) as string[],
    value: JSON.parse(payload.slice(split + 1)) as unknown,
    ttlMs: pttl > 0 ? pttl : undefined,
  };
}

/** Wraps a command connection with the cache's key layout and scripts. */
export function createRedisStore(client: Redis, prefix: string) {
  const valueKey = (key: string): string => `${prefix}cache:v:${key}`;
  const tagKey = (tag: string): string => `${prefix}cache:t:${tag}`;
  const epochKey = (tag: string): string => `${prefix}cache:e:${tag}`;

  // defineCommand sends EVALSHA and falls back to EVAL once per connection.
  client.defineCommand('opsdeckCacheSet', { lua: SET_SCRIPT });
  client.defineCommand('opsdeckCacheInvalidate', { lua: INVALIDATE_SCRIPT, numberOfKeys: 2 });
  const scripts = client as unknown as { opsdeckCacheSet: ScriptCall; opsdeckCacheInvalidate: ScriptCall };

  return {
    invalidationChannel: `${prefix}cache:invalidate`,

    /** Value, remaining TTL and the epochs of `guardTags`, in one round trip. */
    async read(key: string, guardTags: readonly string[]): Promise<L2Read> {
      const pipeline = client.pipeline().get(valueKey(key)).pttl(valueKey(key));
      if (guardTags.length > 0) {
        pipeline.mget(guardTags.map(epochKey));
      }
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([err]) => err !== null);
      if (failed) {
        throw failed[0];
      }
      const payload = results[0]?.[1] as string | null;
      const pttl = results[1]?.[1] as number;
      const epochs = ((results[2]?.[1] ?? []) as (string | null)[]).map((e) => e ?? '');
      return { entry: payload === null ? undefined : decodeEntry(payload, pttl), epochs };
    },

    /** Stores an entry; with `expectedEpochs`, only if none of its tags was invalidated since they were read. */
    async write(key: string, payload: string, ttlMs: number | undefined, tags: readonly string[], expectedEpochs?: readonly string[]): Promise<boolean> {
      const guard = expectedEpochs !== undefined;
      const stored = await scripts.opsdeckCacheSet(
        1 + 2 * tags.length,
        valueKey(key),
        ...tags.map(tagKey),
        ...tags.map(epochKey),
        payload,
        ttlMs ?? 0,
        key,
        tags.length,
        guard ? '1' : '0',
        ...(expectedEpochs ?? []),
      );
      return stored === 1;
    },

    async delete(key: string): Promise<void> {
      await client.del(valueKey(key));
    },

    async invalidateTag(tag: string): Promise<void> {
      await scripts.opsdeckCacheInvalidate(tagKey(tag), epochKey(tag), valueKey(''), tag, EPOCH_TTL_MS);
    },
  };
}

export type RedisStore = ReturnType<typeof createRedisStore>;
