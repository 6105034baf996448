import { Type, type Static } from 'typebox';
import { Nullable, Uuid } from './inventory.schemas.js';

export const IMPORTABLE = ['devices', 'locations', 'interfaces', 'ip-addresses'] as const;

export const ImportQuery = Type.Object(
  { dry_run: Type.Optional(Type.Boolean({ default: false, description: 'validate and report; write nothing' })) },
  { additionalProperties: false },
);

export const ImportReport = Type.Object(
  {
    object_type: Type.String({ maxLength: 50 }),
    dry_run: Type.Boolean(),
    total: Type.Integer({ minimum: 0 }),
    created: Type.Integer({ minimum: 0 }),
    updated: Type.Integer({ minimum: 0 }),
    errors: Type.Array(Type.Object({ path: Type.String({ maxLength: 500 }), message: Type.String({ maxLength: 1000 }) }, { additionalProperties: false }), {
      maxItems: 1000,
      description: 'the first 1000 problems; `rows.N` is the N-th data row',
    }),
    changes: Type.Array(
      Type.Object(
        { row: Type.Integer({ minimum: 1 }), action: Type.Union([Type.Literal('create'), Type.Literal('update')]), id: Nullable(Uuid) },
        { additionalProperties: false },
      ),
      { maxItems: 1000, description: 'the first 1000 rows and what they do' },
    ),
  },
  { additionalProperties: false },
);
export type ImportReport = Static<typeof ImportReport>;

export const ExportFormat = Type.Union([Type.Literal('csv'), Type.Literal('json')], { default: 'csv' });
