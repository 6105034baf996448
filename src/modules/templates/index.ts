/**
 * Public surface of the templates module: configuration templates (Jinja2), their versions and
 * rendering, and the `config_push` executor the jobs module runs. Other modules import from here
 * only. Not the jobs module's *job* templates.
 */
import type { RoutePlugin } from '../../app.js';
import type { Db } from '../../platform/db/database.js';
import { NotFoundError } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/auth.js';
import type { InventoryServices } from '../inventory/index.js';
import { DEFAULT_LIMITS, type Limits } from './engine/index.js';
import { configPushExecutor, type VaultRead } from './config-push.executor.js';
import type { ProfileLookup } from './config-push.fns.js';
import { createRenderPool } from './render-pool.js';
import { createTemplatesService, type AuditPort, type TemplatesServiceDeps } from './templates.service.js';
import { templatesRoutes } from './templates.routes.js';
import { createTemplatesGitFeed } from './git-feed.js';

export interface TemplatesModuleDeps {
  db: Db;
  /** Inventory reads for device renders, as the acting principal. */
  inventory: Pick<InventoryServices, 'devices' | 'locations' | 'platforms'>;
  audit?: AuditPort;
  /** Render budget (ms); a template still running then is stopped with 422 TEMPLATE_LIMIT. */
  renderTimeoutMs?: number;
  /** Worker threads rendering at once. */
  renderWorkers?: number;
  onError?: (err: unknown) => void;
  /** Platform profiles for `config_push` by network driver (the configs module's lookup, wired in modules.ts). */
  profileFor?: ProfileLookup;
  /** The credential vault for `config_push`'s `secret_variables`, as the run's initiator (credentials' `resolve`, wired in modules.ts); absent: none can be read. */
  vault?: VaultRead;
  /** jobs' `rewriteStoredParams` (see TemplatesServiceDeps). */
  storedParams?: TemplatesServiceDeps['storedParams'];
}

export const TEMPLATES_PERMISSIONS = ['templates:read', 'templates:write', 'templates:render'] as const;

/** Reads what a device render merges in: device, interfaces, ip_addresses, location, platform, custom_fields. */
export function inventoryDeviceData(inventory: TemplatesModuleDeps['inventory']) {
  return async (actor: Actor, deviceId: string): Promise<Record<string, unknown>> => {
    const device = await inventory.devices.get(actor, deviceId, { include: 'interfaces,ip_addresses' });
    const { interfaces, ip_addresses, ...rest } = device as typeof device & { interfaces?: unknown[]; ip_addresses?: unknown[] };
    const location = device.location ? await inventory.locations.get(actor, device.location.id) : null;
    const platform = device.platform ? await inventory.platforms.get(actor, device.platform.id) : null;
    return { device: rest, interfaces: interfaces ?? [], ip_addresses: ip_addresses ?? [], location, platform, custom_fields: device.custom_fields };
  };
}

export function createTemplatesModule(deps: TemplatesModuleDeps) {
  const limits: Limits = { ...DEFAULT_LIMITS, ...(deps.renderTimeoutMs ? { timeoutMs: deps.renderTimeoutMs } : {}) };
  const pool = createRenderPool(limits, deps.renderWorkers ?? 2);
  const service = createTemplatesService({
    db: deps.db,
    pool,
    deviceData: inventoryDeviceData(deps.inventory),
    ...(deps.audit ? { audit: deps.audit } : {}),
    ...(deps.onError ? { onError: deps.onError } : {}),
    ...(deps.storedParams ? { storedParams: deps.storedParams } : {}),
  });
  const plugins: RoutePlugin[] = [{ prefix: '/api/v1', plugin: templatesRoutes(service) }];
  /** The `templates` repository feed (configs calls it after each sync; modules.ts wires it). */
  const repositoryFeed = createTemplatesGitFeed({
    db: deps.db,
    ...(deps.audit ? { audit: deps.audit } : {}),
    ...(deps.onError ? { onError: deps.onError } : {}),
  });
  // `config_push` renders through the service as the run's initiator, like POST /templates/{id}/render.
  const noVault: VaultRead = () => Promise.reject(new NotFoundError('CREDENTIAL_NOT_FOUND', 'No credential vault is wired'));
  const executors = [
    configPushExecutor(
      (actor, id, input) => service.renderForPush(actor, id, input),
      deps.profileFor ?? (async () => null),
      deps.vault ?? noVault,
      (id, variables) => service.schemaSecretPaths(id, variables),
    ),
  ];
  // Notification subjects and bodies (alerts module) render in the same sandboxed pool; no stored templates are reachable.
  const renderText = (source: string, vars: Record<string, unknown>) => pool.render({ source, name: 'notification', vars, templates: {} });
  return { service, plugins, repositoryFeed, executors, renderText, permissions: TEMPLATES_PERMISSIONS, close: () => pool.close() };
}
export type TemplatesModule = ReturnType<typeof createTemplatesModule>;

export { createJinja, PRODUCT_OPTIONS, TemplateError } from './engine/index.js';
export type { Jinja, JinjaOptions, TemplateLoader } from './engine/index.js';
export type { TemplatesService } from './templates.service.js';
export type { ProfileLookup, PushProfile } from './config-push.fns.js';
export type { VaultRead } from './config-push.executor.js';
