import type { Config } from '../../config.js';
import type { EventBus } from '../../platform/bus/index.js';
import { createEnvelope, type KeyRing } from '../../platform/crypto/index.js';
import type { Db } from '../../platform/db/database.js';
import type { Logger } from '../../platform/observability/logger.js';
import { resolveSection, type Explained } from './settings.fns.js';
import { createSettingsRepository, type StoredSection } from './settings.repository.js';
import { SECTION_NAMES, SECTIONS, type SectionName, type SectionValues } from './settings.sections.js';

/** The bus channel every node listens on; the message names the section and its new version. */
export const SETTINGS_CHANGED = 'settings.changed';

export interface SettingsStoreDeps {
  db: Db;
  bus: EventBus;
  config: Partial<Config>;
  keyRing: KeyRing;
  logger: Pick<Logger, 'warn' | 'error'>;
  /** The safety net behind the bus: how often every node compares section versions with the database (default 5 s). */
  pollMs?: number;
}

interface Snapshot {
  version: number;
  updatedAt: string | null;
  updatedBy: string | null;
  explained: Record<string, Explained>;
  values: Readonly<Record<string, unknown>>;
}

interface Sealed {
  $sealed: { keyId: string; wrappedKey: string; value: string };
}
const isSealed = (v: unknown): v is Sealed => typeof v === 'object' && v !== null && '$sealed' in v;

/**
 * The live settings of this node: an in-memory snapshot per section, replaced when a
 * `settings.changed` bus message arrives or the periodic version check finds a newer row.
 * `current(section)` is a map read: never a database query per request.
 */
export function createSettingsStore(deps: SettingsStoreDeps) {
  const repo = createSettingsRepository(deps.db);
  const envelope = createEnvelope(deps.keyRing);
  const snapshots = new Map<SectionName, Snapshot>();
  const listeners = new Map<SectionName, Set<() => void>>();
  const empty = (name: SectionName): Snapshot => build(name, null);
  const ref = (section: string, key: string) => ({ kind: 'setting', id: section, type: key });

  function open(section: string, stored: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(stored)) {
      out[k] = isSealed(v) ? envelope.open(ref(section, k), v.$sealed, { value: v.$sealed.value }).value : v;
    }
    return out;
  }

  function build(name: SectionName, row: StoredSection | null): Snapshot {
    let stored: Record<string, unknown> = {};
    try {
      stored = row ? open(name, row.value) : {};
    } catch (err) {
      // A secret sealed under a key this node lacks: the section falls back to environment/default.
      deps.logger.error({ err, section: name }, 'settings section could not be opened');
    }
    const explained = resolveSection(SECTIONS[name], stored, deps.config);
    const values = Object.freeze(Object.fromEntries(Object.entries(explained).map(([k, e]) => [k, e.value])));
    return { version: row?.version ?? 0, updatedAt: row?.updatedAt ?? null, updatedBy: row?.updatedBy ?? null, explained, values };
  }

  function install(name: SectionName, row: StoredSection | null): void {
    const before = snapshots.get(name);
    if (before && row && before.version >= row.version) return;
    snapshots.set(name, build(name, row));
    for (const fn of listeners.get(name) ?? []) {
      try {
        fn();
      } catch (err) {
        deps.logger.error({ err, section: name }, 'settings listener failed');
      }
    }
  }

  const isSection = (s: unknown): s is SectionName => typeof s === 'string' && (SECTION_NAMES as string[]).includes(s);

  async function reload(name: SectionName): Promise<void> {
    install(name, await repo.get(name));
  }

  async function check(): Promise<void> {
    const versions = await repo.versions();
    for (const [name, version] of versions) {
      if (isSection(name) && version > (snapshots.get(name)?.version ?? 0)) await reload(name);
    }
  }

  let timer: NodeJS.Timeout | null = null;
  let unsubscribe: (() => Promise<void>) | null = null;

  return {
    repo,
    /** The parsed environment the sections fall back to. */
    config: deps.config,
    /** Loads every section, then follows changes (bus + periodic version check). */
    async start(): Promise<void> {
      const rows = new Map((await repo.all()).map((r) => [r.section, r]));
      for (const name of SECTION_NAMES) snapshots.set(name, build(name, rows.get(name) ?? null));
      // NOTE: not awaited: with Redis unreachable the subscription waits for it, and the node must
      // still start (the version check below applies changes meanwhile).
      const subscribed = deps.bus.subscribe(SETTINGS_CHANGED, (message) => {
        const section = (message as { section?: unknown } | null)?.section;
        if (isSection(section)) reload(section).catch((err: unknown) => deps.logger.warn({ err, section }, 'settings reload failed'));
      });
      subscribed.then(
        (off) => {
          unsubscribe = off;
        },
        (err: unknown) => deps.logger.warn({ err }, 'settings subscription failed; changes arrive by the version check only'),
      );
      timer = setInterval(() => {
        check().catch((err: unknown) => deps.logger.warn({ err }, 'settings version check failed'));
      }, deps.pollMs ?? 5000);
      timer.unref();
    },
    async close(): Promise<void> {
      if (timer) clearInterval(timer);
      await unsubscribe?.();
    },
    /** The effective values of a section on this node (frozen; replaced, never mutated, on change). */
    current<S extends SectionName>(name: S): SectionValues<S> {
      return (snapshots.get(name) ?? empty(name)).values as SectionValues<S>;
    },
    snapshot(name: SectionName): Snapshot {
      return snapshots.get(name) ?? empty(name);
    },
    /** The plain values of a stored row (secrets opened), for a read-modify-write. */
    open,
    /** The sealed form of a secret value for the row. */
    seal(section: SectionName, key: string, value: string): Sealed {
      const s = envelope.seal(ref(section, key), { value });
      return { $sealed: { keyId: s.keyId, wrappedKey: s.wrappedKey, value: s.sealed.value! } };
    },
    /** Installs the row this node just wrote and tells the other nodes. */
    async changed(name: SectionName): Promise<void> {
      await reload(name);
      await deps.bus.publish(SETTINGS_CHANGED, { section: name, version: snapshots.get(name)?.version ?? 0 });
    },
    /** Calls `fn` after a section's snapshot is replaced on this node (from any node's change). */
    onChange(name: SectionName, fn: () => void): () => void {
      const set = listeners.get(name) ?? new Set();
      set.add(fn);
      listeners.set(name, set);
      return () => set.delete(fn);
    },
  };
}
export type SettingsStore = ReturnType<typeof createSettingsStore>;
