import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { Compile } from 'typebox/compile';
import { AppError, BadRequestError, ValidationError, type FieldError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { timeSlicer } from '../../platform/time-slice.js';
import type { CrudService } from './crud.service.js';
import type { InventoryCore } from './inventory.core.js';
import type { ObjectType } from './inventory.schemas.js';
import { csvColumns, fromCsvRecord, toCsvRecord } from './import-export.fns.js';
import type { ImportReport } from './import-export.schemas.js';

/**
 * Imports (CSV streamed through csv-parse, NDJSON streamed by line, or a JSON array) and
 * exports (CSV or JSON, streamed page by page). An import is validated whole — schema, then
 * the same rules as the API — and applied in one transaction, or not at all. A dry run
 * performs the import and rolls it back, so its report is exactly what a real run would do.
 */

export type ImportFormat = 'csv' | 'ndjson' | 'json';
export interface Importable {
  service: CrudService;
  objectType: ObjectType;
  /** Rows without an id update the object with this unique field's value, if one exists. */
  key: 'name' | null;
}

const MAX_ROWS = 1_000_000;
const MAX_REPORTED = 1000;
class DryRun extends Error {}

async function* ndjsonLines(stream: Readable): AsyncGenerator<unknown> {
  let buffer = '';
  let line = 0;
  for await (const chunk of stream) {
    buffer += String(chunk);
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      line++;
      if (text) yield parseJsonLine(text, line);
    }
  }
  if (buffer.trim()) yield parseJsonLine(buffer.trim(), line + 1);
}

function parseJsonLine(text: string, line: number): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadRequestError('IMPORT_MALFORMED', `Line ${line} is not valid JSON`, [{ path: `rows.${line}`, message: 'is not valid JSON' }]);
  }
}

export function createImportExportService(core: InventoryCore, importables: Record<string, Importable>) {
  const compiled = new Map(
    Object.entries(importables).map(([k, v]) => [k, { create: Compile(v.service.def.schemas.create), update: Compile(v.service.def.schemas.update) }]),
  );

  async function readRows(format: ImportFormat, body: unknown, imp: Importable, errors: FieldError[]): Promise<Record<string, unknown>[]> {
    const rows: Record<string, unknown>[] = [];
    const push = (row: unknown) => {
      if (rows.length >= MAX_ROWS) throw new BadRequestError('IMPORT_TOO_LARGE', `An import holds at most ${MAX_ROWS} rows`);
      if (typeof row !== 'object' || row === null || Array.isArray(row)) errors.push({ path: `rows.${rows.length + 1}`, message: 'must be an object' });
      rows.push((row ?? {}) as Record<string, unknown>);
    };
    if (format === 'json') {
      const items = Array.isArray(body) ? body : (body as { items?: unknown })?.items;
      if (!Array.isArray(items)) {
        throw new BadRequestError('IMPORT_MALFORMED', 'Send a JSON array of objects (or {"items": [...]})', [{ path: 'body', message: 'must be an array' }]);
      }
      items.forEach(push);
    } else if (format === 'ndjson') {
      for await (const row of ndjsonLines(body as Readable)) push(row);
    } else {
      const defs = await core.repos.customFields.definitions(imp.objectType);
      const parser = (body as Readable).pipe(parse({ columns: true, bom: true, skip_empty_lines: true, trim: true, max_record_size: 1_000_000 }));
      try {
        for await (const record of parser) {
          const r = fromCsvRecord(record as Record<string, string>, imp.service.def.schemas.create, defs, `rows.${rows.length + 1}`);
          errors.push(...r.errors);
          push(r.body);
        }
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw new BadRequestError('IMPORT_MALFORMED', `The CSV is malformed: ${(err as Error).message.slice(0, 300)}`, [
          { path: 'body', message: 'is not valid CSV' },
        ]);
      }
    }
    return rows;
  }

  return {
    async import(actor: Actor, objectType: string, format: ImportFormat, body: unknown, dryRun: boolean): Promise<ImportReport> {
      const imp = importables[objectType]!;
      requirePermission(actor, 'inventory:import');
      requirePermission(actor, `${imp.service.def.permission}:write`);
      const errors: FieldError[] = [];
      const rows = await readRows(format, body, imp, errors);
      const { create, update } = compiled.get(objectType)!;
      const repo = imp.service.def.repo(core.repos);
      const keys = imp.key ? rows.map((r) => r[imp.key!]).filter((v): v is string => typeof v === 'string') : [];
      const byKey = imp.key ? await repo.existing(imp.key, keys) : new Map<string, string>();
      const ids = rows.map((r) => r.id).filter((v): v is string => typeof v === 'string');
      const known = new Set((await repo.getMany(ids.filter((id) => /^[0-9a-f-]{36}$/i.test(id)))).map((r) => r.id));
      const creates: { row: number; input: Record<string, unknown> }[] = [];
      const updates: { row: number; id: string; input: Record<string, unknown> }[] = [];
      const slice = timeSlicer();
      for (const [i, raw] of rows.entries()) {
        await slice();
        const { id, ...input } = raw as { id?: string } & Record<string, unknown>;
        const target =
          typeof id === 'string' ? id.toLowerCase() : imp.key && typeof input[imp.key] === 'string' ? byKey.get(input[imp.key] as string) : undefined;
        if (typeof id === 'string' && !known.has(target!)) {
          errors.push({ path: `rows.${i + 1}.id`, message: `no ${imp.service.def.title.toLowerCase()} with this id` });
          continue;
        }
        const schema = target ? update : create;
        if (!schema.Check(input)) {
          for (const e of schema.Errors(input)) {
            const extra =
              (e.params as { requiredProperties?: string[]; additionalProperties?: string[] }).requiredProperties ??
              (e.params as { additionalProperties?: string[] }).additionalProperties;
            const field = extra ? extra.join(',') : e.instancePath.slice(1).replace(/\//g, '.');
            if (e.keyword !== 'boolean') errors.push({ path: `rows.${i + 1}${field ? `.${field}` : ''}`, message: e.message });
          }
          continue;
        }
        if (target) updates.push({ row: i + 1, id: target, input });
        else creates.push({ row: i + 1, input });
      }
      const report = (): ImportReport => ({
        object_type: objectType,
        dry_run: dryRun,
        total: rows.length,
        created: creates.length,
        updated: updates.length,
        errors: errors.slice(0, MAX_REPORTED),
        changes: [
          ...creates.slice(0, MAX_REPORTED).map((c) => ({ row: c.row, action: 'create' as const, id: null })),
          ...updates.slice(0, MAX_REPORTED).map((u) => ({ row: u.row, action: 'update' as const, id: u.id })),
        ]
          .sort((a, b) => a.row - b.row)
          .slice(0, MAX_REPORTED),
      });
      const { internal } = imp.service;
      try {
        await internal.write(actor, async (ctx) => {
          const up = await internal.prepareUpdates(
            ctx,
            updates.map((u) => ({ id: u.id, input: u.input })),
            (i) => `rows.${updates[i]!.row}`,
          );
          const cr = await internal.prepareCreates(
            ctx,
            creates.map((c) => c.input),
            (i) => `rows.${creates[i]!.row}`,
          );
          errors.push(...ctx.errors, ...ctx.conflicts);
          if (errors.length > 0) throw new DryRun();
          // Every row gets its domain event; the audit log gets one entry for the import as a whole.
          await internal.writeUpdates(actor, ctx, up, false);
          await internal.writeCreates(actor, ctx, cr, false);
          await core.audit?.record(ctx.repos.db, {
            actor,
            action: `${imp.service.def.kind}.imported`,
            resourceType: imp.service.def.kind,
            resourceId: null,
            outcome: 'success',
            changes: { format, created: creates.length, updated: updates.length },
          });
          if (dryRun) throw new DryRun();
        });
      } catch (err) {
        if (!(err instanceof DryRun)) throw err;
      }
      errors.sort((a, b) => Number(a.path.split('.')[1]) - Number(b.path.split('.')[1]));
      if (errors.length > 0 && !dryRun) {
        throw new ValidationError('IMPORT_INVALID', `The import has ${errors.length} error(s); nothing was written`, errors.slice(0, MAX_REPORTED));
      }
      return report();
    },

    /** Streams every object matching the filters, page by page (keyset), as CSV or a JSON array. */
    async export(actor: Actor, objectType: string, format: 'csv' | 'json', query: Record<string, unknown>): Promise<Readable> {
      const imp = importables[objectType]!;
      requirePermission(actor, 'inventory:export');
      const service = imp.service;
      const first = await service.list(actor, { ...query, limit: 1000 });
      const columns = csvColumns(service.def.schemas.create, await core.repos.customFields.definitions(imp.objectType));
      async function* pages() {
        let page = first;
        for (;;) {
          yield page.items;
          if (!page.next_cursor) return;
          page = await service.list(actor, { ...query, limit: 1000, cursor: page.next_cursor });
        }
      }
      if (format === 'json') {
        return Readable.from(
          (async function* () {
            let sep = '[';
            for await (const items of pages()) {
              for (const it of items) {
                yield `${sep}${JSON.stringify(it)}`;
                sep = ',\n';
              }
            }
            yield sep === '[' ? '[]\n' : ']\n';
          })(),
        );
      }
      const csv = stringify({ header: true, columns });
      void (async () => {
        try {
          for await (const items of pages()) {
            for (const it of items) if (!csv.write(toCsvRecord(it, columns, service.def.schemas.create))) await new Promise((r) => csv.once('drain', r));
          }
          csv.end();
        } catch (err) {
          csv.destroy(err as Error);
        }
      })();
      return csv;
    },
  };
}

export type ImportExportService = ReturnType<typeof createImportExportService>;
