import { ValidationError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { checkLinearRegex, LinearRegexError, linearTest } from '../../platform/linear-regex.js';
import type { GitStore } from './git-store.js';
import type { HistoryRepository, VersionRow } from './history.repository.js';

const CACHE_BYTES = 256 * 1024 * 1024;
const MATCHES_PER_DEVICE = 50;

/**
 * Configuration contents by blob id, kept in memory: a blob never changes, so entries never go
 * stale, and a search over thousands of devices reads no Git after the first.
 */
export function createContentCache(store: GitStore) {
  const entries = new Map<string, string>();
  let bytes = 0;
  return {
    async get(versions: readonly VersionRow[]): Promise<Map<string, string>> {
      const missing = new Map<string, string[]>();
      for (const v of versions) {
        if (v.contentHash && !entries.has(v.contentHash)) missing.set(v.repositoryId, [...(missing.get(v.repositoryId) ?? []), v.contentHash]);
      }
      for (const [repositoryId, blobs] of missing) {
        const read = await store.readBlobs(repositoryId, blobs, 1024 * 1024 * 1024).catch(() => new Map<string, Buffer>());
        for (const [sha, buf] of read) {
          const text = buf.toString('utf8');
          entries.set(sha, text);
          bytes += text.length;
        }
      }
      while (bytes > CACHE_BYTES && entries.size > 0) {
        const [oldest, text] = entries.entries().next().value as [string, string];
        entries.delete(oldest);
        bytes -= text.length;
      }
      return entries;
    },
  };
}

export type ContentCache = ReturnType<typeof createContentCache>;

/** Search over the latest configuration of every device (`GET /configs/search`). */
export function createSearchService(deps: { history: HistoryRepository; store: GitStore; cache?: ContentCache }) {
  const cache = deps.cache ?? createContentCache(deps.store);
  return {
    async search(actor: Actor, q: { q: string; regex?: boolean; limit?: number }) {
      requirePermission(actor, 'configs:read');
      if (q.regex) {
        try {
          checkLinearRegex(q.q);
        } catch (err) {
          if (!(err instanceof LinearRegexError)) throw err;
          throw new ValidationError('CONFIG_SEARCH_REGEX_INVALID', `Invalid pattern: ${err.message}`, [
            { path: 'query.q', message: `not a valid RE2 pattern (${err.message})` },
          ]);
        }
      }
      const needle = q.q.toLowerCase();
      const matches = q.regex ? (line: string) => linearTest(q.q, line) : (line: string) => line.toLowerCase().includes(needle);
      // One pass over the whole text first: most devices do not match, and those are never split into lines.
      const multiline = `(?m)${q.q}`;
      const anywhere = q.regex ? (text: string) => linearTest(multiline, text) : (text: string) => text.toLowerCase().includes(needle);
      const latest = await deps.history.latestPerDevice();
      const texts = await cache.get(latest);
      const limit = q.limit ?? 100;
      const items = [];
      let devices = 0;
      for (const v of latest) {
        const text = texts.get(v.contentHash);
        if (text === undefined || !anywhere(text)) continue;
        const found: { line: number; text: string }[] = [];
        let count = 0;
        const lines = text.split('\n');
        for (let i = 0; i < lines.length; i++) {
          if (!matches(lines[i]!)) continue;
          count++;
          if (found.length < MATCHES_PER_DEVICE) found.push({ line: i + 1, text: lines[i]!.slice(0, 1000) });
        }
        if (count === 0) continue;
        devices++;
        if (items.length < limit) {
          items.push({
            device: v.deviceName,
            repository_id: v.repositoryId,
            path: v.path,
            version_id: v.id,
            commit: v.commitSha,
            match_count: count,
            matches: found,
          });
        }
      }
      return { searched: latest.length, matched_devices: devices, truncated: devices > items.length, items };
    },
  };
}

export type SearchService = ReturnType<typeof createSearchService>;
