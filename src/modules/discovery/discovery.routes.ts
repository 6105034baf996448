import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses } from '../../platform/http/schemas.js';
import type { DiscoveryService } from './discovery.service.js';
import {
  CreateScanBody,
  HostList,
  HostListQuery,
  OnboardBody,
  OnboardReport,
  ReviewBody,
  ReviewResult,
  Scan,
  ScanList,
  ScanListQuery,
  ScanParams,
} from './discovery.schemas.js';

const tags = ['discovery'];
const policy = { scope: 'global', resource: 'discovery_scan' } as const;
const read = { permission: 'discovery:read', ...policy };
const write = { permission: 'discovery:write', ...policy };

/** /api/v1/discovery/scans: thin handlers; the service authorises. */
export function discoveryRoutes(s: DiscoveryService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/discovery/scans',
      {
        config: write,
        schema: {
          operationId: 'createDiscoveryScan',
          tags,
          summary: 'Start a scan of addresses, CIDRs and ranges (a job run; needs jobs:run_adhoc too)',
          body: CreateScanBody,
          response: { 202: Scan, ...errorResponses(403, 422, 429) },
        },
      },
      async (req, reply) => reply.code(202).send(await s.create(req.actor, req.body)),
    );
    app.get(
      '/discovery/scans',
      {
        config: read,
        schema: {
          operationId: 'listDiscoveryScans',
          tags,
          summary: 'Scans, newest first',
          querystring: ScanListQuery,
          response: { 200: ScanList, ...errorResponses() },
        },
      },
      async (req) => s.list(req.actor, req.query),
    );
    app.get(
      '/discovery/scans/:id',
      {
        config: read,
        schema: {
          operationId: 'getDiscoveryScan',
          tags,
          summary: 'A scan with its progress',
          params: ScanParams,
          response: { 200: Scan, ...errorResponses(404) },
        },
      },
      async (req) => s.get(req.actor, req.params.id),
    );
    app.post(
      '/discovery/scans/:id/cancel',
      {
        config: write,
        schema: {
          operationId: 'cancelDiscoveryScan',
          tags,
          summary: 'Cancel a scan (its job run)',
          params: ScanParams,
          response: { 200: Scan, ...errorResponses(404, 409) },
        },
      },
      async (req) => s.cancel(req.actor, req.params.id),
    );
    app.get(
      '/discovery/scans/:id/hosts',
      {
        config: read,
        schema: {
          operationId: 'listDiscoveryHosts',
          tags,
          summary: 'Probed hosts compared with the inventory and the previous scan of the range, with their review decision',
          params: ScanParams,
          querystring: HostListQuery,
          response: { 200: HostList, ...errorResponses(404) },
        },
      },
      async (req) => s.hosts(req.actor, req.params.id, req.query),
    );
    app.post(
      '/discovery/scans/:id/review',
      {
        config: write,
        schema: {
          operationId: 'reviewDiscoveryHosts',
          tags,
          summary: 'Accept or reject hosts, one or in bulk, with edits applied at onboarding',
          params: ScanParams,
          body: ReviewBody,
          response: { 200: ReviewResult, ...errorResponses(404, 422) },
        },
      },
      async (req) => s.review(req.actor, req.params.id, req.body),
    );
    app.post(
      '/discovery/scans/:id/onboard',
      {
        config: write,
        schema: {
          operationId: 'onboardDiscoveryHosts',
          tags,
          summary: 'Create or update the accepted hosts as devices (interfaces, IPs, LLDP/CDP links); dry_run answers the plan',
          params: ScanParams,
          body: OnboardBody,
          response: { 200: OnboardReport, ...errorResponses(404, 409, 422) },
        },
      },
      async (req) => s.onboard(req.actor, req.params.id, req.body),
    );
  };
}
