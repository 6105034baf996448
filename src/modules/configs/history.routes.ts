import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses, IdParams, Page } from '../../platform/http/schemas.js';
import {
  ChangesQuery,
  SearchQuery,
  SearchResult,
  ConfigVersion,
  ConfigVersionContent,
  DeviceDiff,
  DeviceDiffQuery,
  DeviceVersionParams,
  VersionsQuery,
} from './history.schemas.js';
import type { HistoryService } from './history.service.js';
import type { SearchService } from './search.service.js';

const tags = ['configs'];
const read = { permission: 'configs:read' };
/** A device's configuration versions: global, like the device (docs/architecture.md "Team scoping"). */
const device = { scope: 'global', resource: 'device' } as const;

/** Device configuration history from the index: /devices/{id}/configs…, /configs/changes. */
export function historyRoutes(service: HistoryService, search: SearchService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/devices/:id/configs',
      {
        config: { ...read, ...device },
        schema: {
          operationId: 'listDeviceConfigVersions',
          tags,
          summary: 'Versions of a device’s configuration, newest first',
          params: IdParams,
          querystring: VersionsQuery,
          response: { 200: Page(ConfigVersion), ...errorResponses(404) },
        },
      },
      async (req) => service.deviceVersions(req.actor, req.params.id, req.query),
    );
    app.get(
      '/devices/:id/configs/diff',
      {
        config: { ...read, ...device },
        schema: {
          operationId: 'diffDeviceConfigVersions',
          tags,
          summary: 'Diff of two versions (default: latest against the one before)',
          params: IdParams,
          querystring: DeviceDiffQuery,
          response: { 200: DeviceDiff, ...errorResponses(404, 422) },
        },
      },
      async (req) => service.deviceDiff(req.actor, req.params.id, req.query),
    );
    app.get(
      '/devices/:id/configs/:version',
      {
        config: { ...read, ...device },
        schema: {
          operationId: 'getDeviceConfigVersion',
          tags,
          summary: 'One version with its content',
          params: DeviceVersionParams,
          response: { 200: ConfigVersionContent, ...errorResponses(404) },
        },
      },
      async (req) => service.deviceVersion(req.actor, req.params.id, req.params.version),
    );
    app.get(
      '/configs/changes',
      {
        config: read,
        schema: {
          operationId: 'listConfigChanges',
          tags,
          summary: 'Configuration changes across the fleet since a time, newest first',
          querystring: ChangesQuery,
          response: { 200: Page(ConfigVersion), ...errorResponses() },
        },
      },
      async (req) => service.changes(req.actor, req.query),
    );
    app.get(
      '/configs/search',
      {
        config: read,
        schema: {
          operationId: 'searchConfigs',
          tags,
          summary: 'Search the latest configuration of every device',
          querystring: SearchQuery,
          response: { 200: SearchResult, ...errorResponses(422) },
        },
      },
      async (req) => search.search(req.actor, req.query),
    );
  };
}
