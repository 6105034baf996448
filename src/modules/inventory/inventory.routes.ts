import { Transform } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../platform/errors.js';
import { IdParams, Page, errorResponses } from '../../platform/http/schemas.js';
import type { ListQuery } from './crud.service.js';
import { Device, DeviceExtraQuery } from './device.schemas.js';
import { deviceDef } from './device.service.js';
import { ExportFormat, ImportQuery, ImportReport } from './import-export.schemas.js';
import type { ImportFormat, Importable } from './import-export.service.js';
import { IpCheckBody, IpCheckResult } from './ip-address.schemas.js';
import { listQuerySchema } from './inventory.schemas.js';
import { AnsibleInventory } from './ansible.service.js';
import { TopologyGraph, TopologyQuery } from './topology.service.js';
import type { InventoryServices } from './index.js';

/** Routes beyond CRUD: address check, topology graph, group members, import/export, Ansible. */
export function inventoryRoutes(s: InventoryServices, importables: Record<string, Importable>, importMaxBytes: number): FastifyPluginAsyncTypebox {
  return async (app) => {
    // Imports stream: CSV and NDJSON bodies reach the service as the raw request stream, capped here.
    const capped = (_req: unknown, payload: NodeJS.ReadableStream, done: (err: Error | null, body?: unknown) => void) => {
      let seen = 0;
      const cap = new Transform({
        transform(chunk: Buffer, _enc, next) {
          seen += chunk.length;
          if (seen > importMaxBytes) next(new AppError('PAYLOAD_TOO_LARGE', 413, `An import body may be at most ${importMaxBytes} bytes`));
          else next(null, chunk);
        },
      });
      done(null, payload.pipe(cap));
    };
    app.addContentTypeParser('text/csv', capped);
    app.addContentTypeParser('application/x-ndjson', capped);

    app.post(
      '/ip-addresses/check',
      {
        config: { permission: 'ipam:read' },
        schema: {
          operationId: 'checkIpAddress',
          tags: ['ipam'],
          summary: 'Is this address in use, and by which device or interface?',
          body: IpCheckBody,
          response: { 200: IpCheckResult, ...errorResponses() },
        },
      },
      async (req) => s.ipCheck.check(req.actor, req.body),
    );
    app.get(
      '/topology',
      {
        config: { permission: 'topology:read' },
        schema: {
          operationId: 'getTopology',
          tags: ['topology'],
          summary: 'Node/edge graph of a location (or of every linked device)',
          querystring: TopologyQuery,
          response: { 200: TopologyGraph, ...errorResponses(404) },
        },
      },
      async (req) => s.topology.graph(req.actor, req.query),
    );
    app.get(
      '/device-groups/:id/devices',
      {
        config: { permission: 'devices:read', scope: 'global', resource: 'device_group' },
        schema: {
          operationId: 'listDeviceGroupDevices',
          tags: ['device groups'],
          summary: "A group's devices (static members or the dynamic filter's matches)",
          params: IdParams,
          querystring: listQuerySchema(deviceDef.filters, deviceDef.sortFields, Object.keys(deviceDef.includes ?? {}), DeviceExtraQuery),
          response: { 200: Page(Type.Partial(Device)), ...errorResponses(404) },
        },
      },
      async (req) => s.membership.listDevices(req.actor, req.params.id, req.query as ListQuery),
    );
    app.get(
      '/inventory/ansible',
      {
        config: { permission: 'inventory:export' },
        schema: {
          operationId: 'getAnsibleInventory',
          tags: ['inventory'],
          summary: 'Ansible dynamic inventory (ansible-inventory --list format)',
          response: { 200: AnsibleInventory, ...errorResponses() },
        },
      },
      async (req) => s.ansible.inventory(req.actor),
    );
    for (const [type, imp] of Object.entries(importables)) {
      const item = imp.service.def.schemas.item;
      app.post(
        `/${type}/import`,
        {
          config: { permission: 'inventory:import' },
          schema: {
            operationId: `import${imp.service.def.title.replace(/\s/g, '')}s`,
            tags: ['inventory'],
            summary: `Import ${type} from CSV, NDJSON or a JSON array (all or nothing; ?dry_run=true reports only)`,
            querystring: ImportQuery,
            body: {
              content: {
                'application/json': { schema: Type.Array(Type.Record(Type.String(), Type.Unknown()), { maxItems: 100_000 }) },
                'text/csv': { schema: Type.Unknown({ description: 'CSV with a header row; columns as in the export' }) },
                'application/x-ndjson': { schema: Type.Unknown({ description: 'one JSON object per line' }) },
              },
            },
            response: { 200: ImportReport, ...errorResponses(413, 415, 422) },
          },
        },
        async (req) => s.importExport.import(req.actor, type, formatOf(req.headers['content-type']), req.body, req.query.dry_run ?? false),
      );
      app.get(
        `/${type}/export`,
        {
          config: { permission: 'inventory:export' },
          schema: {
            operationId: `export${imp.service.def.title.replace(/\s/g, '')}s`,
            tags: ['inventory'],
            summary: `Export ${type} as CSV or JSON (list filters apply)`,
            querystring: Type.Object({ format: Type.Optional(ExportFormat), ...exportFilters(imp, type) }, { additionalProperties: false }),
            response: { 200: { content: { 'text/csv': { schema: Type.String() }, 'application/json': { schema: Type.Array(item) } } }, ...errorResponses() },
          },
        },
        async (req, reply) => {
          const { format = 'csv', ...query } = req.query as { format?: 'csv' | 'json' } & Record<string, unknown>;
          const stream = await s.importExport.export(req.actor, type, format, query);
          return reply
            .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json')
            .header('content-disposition', `attachment; filename="${type}.${format}"`)
            .send(stream as never);
        },
      );
    }
  };
}

/** An export takes a list's filters and sort, not its paging (it streams every page). */
function exportFilters(imp: Importable, type: string) {
  const def = imp.service.def;
  const {
    limit: _limit,
    cursor: _cursor,
    fields: _fields,
    ...rest
  } = listQuerySchema(def.filters, def.sortFields, [], type === 'devices' ? DeviceExtraQuery : {}).properties;
  return rest;
}

function formatOf(contentType: string | undefined): ImportFormat {
  const t = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return t === 'text/csv' ? 'csv' : t === 'application/x-ndjson' ? 'ndjson' : 'json';
}
