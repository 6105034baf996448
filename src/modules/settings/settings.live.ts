import type { Config } from '../../config.js';
import type { EgressPolicy } from '../../platform/egress/index.js';
import { SECTIONS, type SectionName, type SectionValues } from './settings.sections.js';
import type { SettingsStore } from './settings.store.js';

/**
 * A view of `config` whose keys backed by a settings section read the live value at every
 * access (a getter over the store's snapshot): a module handed it, and reading the value at use
 * rather than copying it at construction, follows runtime changes without knowing settings exist.
 */
export function liveConfig<C extends object>(config: C, store: Pick<SettingsStore, 'current'>, section: SectionName): C {
  const live = Object.create(null) as Record<string, unknown>;
  Object.assign(live, config);
  for (const [key, def] of Object.entries(SECTIONS[section].keys) as [string, { config?: keyof Config }][]) {
    if (!def.config || !(def.config in config)) continue;
    Object.defineProperty(live, def.config, { enumerable: true, get: () => (store.current(section) as Record<string, unknown>)[key] });
  }
  return live as C;
}

/** An egress policy rebuilt whenever the `egress` section changes on any node; the listener ports carry over. */
export function liveEgressPolicy(store: Pick<SettingsStore, 'current' | 'onChange'>, build: (values: SectionValues<'egress'>) => EgressPolicy): EgressPolicy {
  let policy = build(store.current('egress'));
  store.onChange('egress', () => {
    policy = build(store.current('egress'));
  });
  return {
    get listeners() {
      return policy.listeners;
    },
    check: (url) => policy.check(url),
    checkLiteral: (url) => policy.checkLiteral(url),
    lookup: (host) => policy.lookup(host),
  };
}
