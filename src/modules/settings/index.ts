import type { RoutePlugin } from '../../app.js';
import { settingsRoutes } from './settings.routes.js';
import { createSettingsService, type SettingsServiceDeps } from './settings.service.js';

export { createSettingsStore, SETTINGS_CHANGED, type SettingsStore, type SettingsStoreDeps } from './settings.store.js';
export { SECTIONS, SECTION_NAMES, type SectionName, type SectionValues } from './settings.sections.js';

/**
 * Runtime settings over the store built earlier (`createSettingsStore`, before identity,
 * whose security settings it feeds): the routes, audit and connection tests.
 */
export function createSettingsModule(deps: SettingsServiceDeps) {
  const service = createSettingsService(deps);
  const plugins: RoutePlugin[] = [{ prefix: '/api/v1', plugin: settingsRoutes(service) }];
  return { service, plugins, permissions: ['settings:read', 'settings:write'] as const };
}
export { liveConfig, liveEgressPolicy } from './settings.live.js';
