import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../../platform/http/schemas.js';
import type { Actor } from '../../platform/http/auth.js';
import {
  CheckIpQuery,
  CheckIpResult,
  Connection,
  ConnectionTest,
  DevicesQuery,
  ExternalIdParams,
  OnboardBody,
  Onboarded,
  PutConnectionBody,
  RemoteDeviceDetail,
  RemoteDevicePage,
  RemoteLocations,
  RemoteNamedList,
  SyncAccepted,
  SyncBody,
  SyncReport,
  SystemParams,
  TestConnectionBody,
} from './integrations.schemas.js';
import type { ConnectionsService } from './connections.service.js';
import type { CockpitService } from './cockpit.service.js';
import type { SyncService } from './sync.service.js';

const tags = ['integrations'];
/** Connections and their views are deployment-wide (docs/architecture.md "Team scoping"). */
const policy = { scope: 'global', resource: 'integration_connection' } as const;
const read = { permission: 'integrations:read', ...policy };
const write = { permission: 'integrations:write', ...policy };
const sync = { permission: 'integrations:sync', ...policy };
/** Calls that reach the source of truth can also fail there. */
const upstream = [404, 422, 502] as const;

export interface IntegrationsRouteServices {
  connections: ConnectionsService;
  cockpit: CockpitService;
  sync: SyncService;
  /** Starts an `integration_sync` job run as `actor` (jobs service, wired in modules.ts). */
  startSync(actor: Actor, params: Record<string, unknown>): Promise<string>;
}

/** /api/v1/integrations/{nautobot|netbox}/…: thin handlers; the services authorise. */
export function integrationsRoutes(s: IntegrationsRouteServices): FastifyPluginAsyncTypebox {
  return async (app) => {
    const base = '/integrations/:system';
    app.get(
      base,
      {
        config: read,
        schema: {
          operationId: 'getIntegrationConnection',
          tags,
          summary: 'The connection to Nautobot or NetBox (saved, else from the environment)',
          params: SystemParams,
          response: { 200: Connection, ...errorResponses(404) },
        },
      },
      async (req) => s.connections.get(req.actor, req.params.system),
    );
    app.put(
      base,
      {
        config: write,
        schema: {
          operationId: 'putIntegrationConnection',
          tags,
          summary: 'Save the connection after testing it',
          params: SystemParams,
          body: PutConnectionBody,
          response: { 200: Connection, ...errorResponses(422, 502) },
        },
      },
      async (req) => s.connections.put(req.actor, req.params.system, req.body),
    );
    app.delete(
      base,
      {
        config: write,
        schema: {
          operationId: 'deleteIntegrationConnection',
          tags,
          summary: 'Remove the saved connection (the environment fallback applies again)',
          params: SystemParams,
          response: { 204: Type.Null(), ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await s.connections.remove(req.actor, req.params.system);
        return reply.code(204).send(null);
      },
    );
    app.post(
      `${base}/test`,
      {
        config: write,
        schema: {
          operationId: 'testIntegrationConnection',
          tags,
          summary: 'Test settings (reachable, token valid, API version) without saving them',
          params: SystemParams,
          body: TestConnectionBody,
          response: { 200: ConnectionTest, ...errorResponses(404, 422, 502) },
        },
      },
      async (req) => s.connections.test(req.actor, req.params.system, req.body ?? {}),
    );
    app.get(
      `${base}/devices`,
      {
        config: read,
        schema: {
          operationId: 'listIntegrationDevices',
          tags,
          summary: 'Devices in the source of truth (filters, one page)',
          params: SystemParams,
          querystring: DevicesQuery,
          response: { 200: RemoteDevicePage, ...errorResponses(...upstream) },
        },
      },
      async (req) => s.cockpit.devices(req.actor, req.params.system, req.query),
    );
    app.get(
      `${base}/devices/:id`,
      {
        config: read,
        schema: {
          operationId: 'getIntegrationDevice',
          tags,
          summary: 'A device with its interfaces and addresses',
          params: ExternalIdParams,
          response: { 200: RemoteDeviceDetail, ...errorResponses(...upstream) },
        },
      },
      async (req) => s.cockpit.device(req.actor, req.params.system, req.params.id),
    );
    app.get(
      `${base}/locations`,
      {
        config: read,
        schema: {
          operationId: 'listIntegrationLocations',
          tags,
          summary: 'Locations (NetBox: sites), parents first with their depth',
          params: SystemParams,
          response: { 200: RemoteLocations, ...errorResponses(...upstream) },
        },
      },
      async (req) => s.cockpit.locations(req.actor, req.params.system),
    );
    for (const kind of ['platforms', 'roles', 'statuses'] as const) {
      const title = kind.charAt(0).toUpperCase() + kind.slice(1);
      app.get(
        `${base}/${kind}`,
        {
          config: read,
          schema: {
            operationId: `listIntegration${title}`,
            tags,
            summary: `${title} in the source of truth (device ${kind})`,
            params: SystemParams,
            response: { 200: RemoteNamedList, ...errorResponses(...upstream) },
          },
        },
        async (req) => s.cockpit.reference(req.actor, req.params.system, kind),
      );
    }
    app.get(
      `${base}/namespaces`,
      {
        config: read,
        schema: {
          operationId: 'listIntegrationNamespaces',
          tags,
          summary: 'IPAM namespaces (Nautobot only)',
          params: SystemParams,
          response: { 200: RemoteNamedList, ...errorResponses(...upstream) },
        },
      },
      async (req) => s.cockpit.namespaces(req.actor, req.params.system),
    );
    app.get(
      `${base}/check-ip`,
      {
        config: read,
        schema: {
          operationId: 'checkIntegrationIp',
          tags,
          summary: 'Whether an address is recorded in the source of truth',
          params: SystemParams,
          querystring: CheckIpQuery,
          response: { 200: CheckIpResult, ...errorResponses(...upstream) },
        },
      },
      async (req) => s.cockpit.checkIp(req.actor, req.params.system, req.query.address),
    );
    app.post(
      `${base}/onboarding`,
      {
        config: write,
        schema: {
          operationId: 'onboardIntegrationDevice',
          tags,
          summary: 'Create a device with its management interface, address and primary IP (rolled back on failure)',
          params: SystemParams,
          body: OnboardBody,
          response: { 201: Onboarded, ...errorResponses(...upstream) },
        },
      },
      async (req, reply) => reply.code(201).send(await s.cockpit.onboard(req.actor, req.params.system, req.body)),
    );
    app.post(
      `${base}/sync/preview`,
      {
        config: sync,
        schema: {
          operationId: 'previewIntegrationSync',
          tags,
          summary: 'Dry-run import or push: the diff (create/update/delete per object with field changes), conflicts and (push) skipped devices',
          params: SystemParams,
          body: SyncBody,
          response: { 200: SyncReport, ...errorResponses(...upstream) },
        },
      },
      async (req) => s.sync.run(req.actor, req.params.system, { ...(req.body ?? {}), dry_run: true }),
    );
    app.post(
      `${base}/sync`,
      {
        config: sync,
        schema: {
          operationId: 'startIntegrationSync',
          tags,
          summary: 'Import from the source of truth as a job run (`integration_sync`)',
          params: SystemParams,
          body: SyncBody,
          response: { 202: SyncAccepted, ...errorResponses(422) },
        },
      },
      async (req, reply) => reply.code(202).send({ run_id: await s.startSync(req.actor, { ...(req.body ?? {}), system: req.params.system }) }),
    );
  };
}
