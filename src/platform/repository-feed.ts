/**
 * The port through which a Git repository feeds another module after a sync (configs calls it;
 * parsers and templates implement it). Only the shape lives here, so no module imports another's
 * internals: `modules.ts` hands the implementations to configs by repository category.
 */
export interface FeedSource {
  /** The repository's id: what the fed objects are keyed by. */
  id: string;
  name: string;
  /** The directory inside the repository the registration covers ("" = all). */
  path: string;
}

export interface FeedSnapshot {
  /** The synced commit (full id). */
  commit: string;
  /** Regular files under the registration's path at `commit`, relative to it (no links, no submodules). */
  files: readonly { path: string; size: number }[];
  /** Contents of some of `files` by relative path. */
  read(paths: readonly string[]): Promise<Map<string, Buffer>>;
}

export interface FeedReport {
  /** One line for the sync's job log. */
  summary: string;
  /** Files skipped and why (a broken template, a name conflict); the sync itself succeeds. */
  warnings: string[];
}

export interface RepositoryFeed {
  /** Applies the repository at `snapshot.commit`; throws only when nothing usable could be applied. */
  synced(source: FeedSource, snapshot: FeedSnapshot): Promise<FeedReport>;
  /** The repository was deleted, deactivated or moved to another category or path. */
  removed(repositoryId: string): Promise<void>;
}

/** At most `max` warnings, then one line counting the rest. */
export function capWarnings(warnings: string[], max = 100): string[] {
  return warnings.length <= max ? warnings : [...warnings.slice(0, max), `… and ${warnings.length - max} more`];
}
