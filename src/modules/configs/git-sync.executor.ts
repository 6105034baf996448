import { Type, type Static } from 'typebox';
import { AppError } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/auth.js';
import { Nullable, Uuid } from '../../platform/http/schemas.js';
import type { Executor } from '../jobs/index.js';
import type { FeedReport } from '../../platform/repository-feed.js';

const Params = Type.Object({ repository_id: Uuid }, { additionalProperties: false });
type Params = Static<typeof Params>;

/** Failures a retry cannot fix: refused credentials, a missing remote or branch, a repository over the size limit. */
const PERMANENT = new Set([
  'PERMISSION_DENIED',
  'GIT_AUTH_FAILED',
  'GIT_REMOTE_NOT_FOUND',
  'GIT_BRANCH_NOT_FOUND',
  'GIT_TOO_LARGE',
  'GIT_REPOSITORY_NOT_FOUND',
  'CREDENTIAL_NOT_FOUND',
  'GIT_CREDENTIAL_TYPE',
]);

export type SyncFn = (
  actor: Actor,
  repositoryId: string,
  runId: string,
  signal: AbortSignal,
) => Promise<{ before: string | null; after: string; feed?: FeedReport }>;

/** `git_sync`: clones or fetches one registered repository on the worker (registered with the jobs module by modules.ts). */
export function gitSyncExecutor(sync: SyncFn): Executor<Params> {
  return {
    type: 'git_sync',
    description: 'Clones or fetches a registered Git repository into its mirror and indexes new commits.',
    params: Params,
    output: Type.Object({
      repository_id: Uuid,
      before: Nullable(Type.String()),
      after: Type.String(),
      feed: Type.Optional(
        Type.Object(
          { summary: Type.String(), warnings: Type.Array(Type.String()) },
          { description: 'What a textfsm or templates repository fed (parsers, templates) and what it skipped' },
        ),
      ),
    }),
    credential: 'none',
    targets: 'optional',
    changesDevices: () => false,
    async run(ctx, params) {
      try {
        // As the run's initiator now: their git:sync and their right to the credential, checked at execution.
        const r = await sync(ctx.actor, params.repository_id, ctx.runId, ctx.signal);
        const moved = r.before === r.after ? `unchanged at ${r.after.slice(0, 12)}` : `${r.before?.slice(0, 12) ?? 'empty'} → ${r.after.slice(0, 12)}`;
        ctx.log('info', `repository synced: ${moved}`);
        if (r.feed) ctx.log('info', r.feed.summary);
        for (const warning of r.feed?.warnings ?? []) ctx.log('warn', warning);
        return { output: moved, parsed: { repository_id: params.repository_id, ...r }, ok: true };
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        ctx.log('error', err.message);
        return {
          output: err.message,
          parsed: null,
          ok: false,
          error: `${err.code}: ${err.message}`,
          retryable: !PERMANENT.has(err.code) && err.status !== 422,
        };
      }
    },
  };
}
