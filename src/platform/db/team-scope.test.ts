import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import { describe, expect, it } from 'vitest';
import { inTeamScope, teamScope, teamWhere, type TeamScope } from './team-scope.js';

type Tables = { users: { id: string; teamId: string | null } };

/** Query builders that only compile, one per dialect. */
const DIALECTS: Record<string, Kysely<Tables>> = {
  sqlite: new Kysely<Tables>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  }),
  postgres: new Kysely<Tables>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  }),
};

describe('team scope', () => {
  it('admins see every team; others their own teams', () => {
    const id = '00000000-0000-7000-8000-000000000001';
    expect(teamScope({ kind: 'user', id, name: 'a', permissions: '*', teamIds: [] })).toBe('all');
    expect(teamScope({ kind: 'user', id, name: 'm', permissions: new Set<string>(), teamIds: ['t1'] })).toEqual(['t1']);
  });

  it.each([
    [['t1'], 't1', true],
    [['t1'], null, true],
    [['t1'], 't2', false],
    ['all', 't2', true],
  ] as const)('inTeamScope(%j, %j) is %s', (scope, teamId, visible) => {
    expect(inTeamScope(scope, teamId)).toBe(visible);
  });

  it.each(Object.entries(DIALECTS))('%s: restricts a column to the scope plus shared rows', (_name, db) => {
    const q = (scope: TeamScope) => db.selectFrom('users').select('id').where(teamWhere(scope, 'users.teamId')).compile();
    expect(q(['t1', 't2']).sql).toMatch(/is null or .* in \(/);
    expect(q(['t1', 't2']).parameters).toEqual(['t1', 't2']);
    expect(q('all').sql).toContain('1 = 1');
    expect(q([]).sql).toMatch(/is null\)?$/);
  });
});
