import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { Actor } from '../http/auth.js';

/** The teams an actor may see: every team (`'all'`) or the listed ones. */
export type TeamScope = 'all' | readonly string[];

/**
 * Admins (`'*'`) and the system see every team's resources; everyone else sees the resources
 * of their own teams plus those with no team (`team_id IS NULL` = shared).
 */
export function teamScope(actor: Actor): TeamScope {
  return actor.permissions === '*' ? 'all' : actor.teamIds;
}

/**
 * A Kysely `where` callback restricting `column` (e.g. `'devices.teamId'`) to the scope:
 * `qb.where(teamWhere(scope, 'devices.teamId'))`. Repositories take the scope, not the actor.
 */
export function teamWhere(scope: TeamScope, column: string) {
  return <DB, TB extends keyof DB>(eb: ExpressionBuilder<DB, TB>): Expression<SqlBool> => {
    if (scope === 'all') return sql<SqlBool>`1 = 1`;
    const col = eb.ref(column as never) as Expression<unknown>;
    if (scope.length === 0) return sql<SqlBool>`${col} is null`;
    return sql<SqlBool>`(${col} is null or ${col} in (${sql.join([...scope])}))`;
  };
}

/** Whether a resource with this team id is visible in the scope (for single-row checks). */
export function inTeamScope(scope: TeamScope, teamId: string | null): boolean {
  return scope === 'all' || teamId === null || scope.includes(teamId);
}
