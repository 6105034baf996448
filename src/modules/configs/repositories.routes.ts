import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParams, Page } from '../../platform/http/schemas.js';
import {
  Branches,
  Commit,
  CommitsQuery,
  Comparison,
  CompareBody,
  ConnectionResult,
  CreateRepositoryBody,
  Diff,
  DiffBody,
  FileContent,
  FileList,
  FilesQuery,
  History,
  HistoryQuery,
  ListRepositoriesQuery,
  PatchQuery,
  PathParams,
  RefQuery,
  Repository,
  RepositoryStatus,
  SyncAccepted,
  TestConnectionBody,
  UpdateRepositoryBody,
  WebhookAccepted,
  WebhookBody,
} from './repositories.schemas.js';
import type { RepositoriesService } from './repositories.service.js';

const tags = ['git'];
const read = { permission: 'git:read' };
const write = { permission: 'git:write' };
/** Repositories are deployment-wide, like the inventory whose configurations they hold (docs/architecture.md "Team scoping"). */
const repo = { scope: 'global', resource: 'git_repository' } as const;

/** /api/v1/git/repositories and /api/v1/configs/compare: thin handlers over the service, which authorises. */
export function repositoriesRoutes(service: RepositoriesService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/git/repositories',
      {
        config: read,
        schema: {
          operationId: 'listGitRepositories',
          tags,
          summary: 'List Git repositories',
          querystring: ListRepositoriesQuery,
          response: { 200: Page(Repository), ...errorResponses() },
        },
      },
      async (req) => service.list(req.actor, req.query),
    );
    app.post(
      '/git/repositories',
      {
        config: write,
        schema: {
          operationId: 'createGitRepository',
          tags,
          summary: 'Register a Git repository',
          body: CreateRepositoryBody,
          response: { 201: Repository, ...errorResponses(409, 422) },
        },
      },
      async (req, reply) => reply.code(201).send(await service.create(req.actor, req.body)),
    );
    app.post(
      '/git/repositories/test',
      {
        config: write,
        schema: {
          operationId: 'testGitConnection',
          tags,
          summary: 'Try a remote before saving it (lists its branches)',
          body: TestConnectionBody,
          response: { 200: ConnectionResult, ...errorResponses(404, 422) },
        },
      },
      async (req) => service.testConnection(req.actor, req.body),
    );
    app.get(
      '/git/repositories/:id',
      {
        config: { ...read, ...repo },
        schema: {
          operationId: 'getGitRepository',
          tags,
          summary: 'Get a Git repository',
          params: IdParams,
          response: { 200: Repository, ...errorResponses(404) },
        },
      },
      async (req) => service.get(req.actor, req.params.id),
    );
    app.patch(
      '/git/repositories/:id',
      {
        config: { ...write, ...repo },
        schema: {
          operationId: 'updateGitRepository',
          tags,
          summary: 'Change a Git repository',
          params: IdParams,
          body: UpdateRepositoryBody,
          response: { 200: Repository, ...errorResponses(404, 409, 422) },
        },
      },
      async (req) => service.update(req.actor, req.params.id, req.body),
    );
    app.delete(
      '/git/repositories/:id',
      {
        config: { ...write, ...repo },
        schema: {
          operationId: 'deleteGitRepository',
          tags,
          summary: 'Remove a Git repository and its mirror',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await service.remove(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/git/repositories/:id/test',
      {
        config: { ...read, ...repo },
        schema: {
          operationId: 'testGitRepository',
          tags,
          summary: 'Try a saved repository’s remote',
          params: IdParams,
          response: { 200: ConnectionResult, ...errorResponses(404, 422) },
        },
      },
      async (req) => service.testSaved(req.actor, req.params.id),
    );
    app.post(
      '/git/repositories/:id/sync',
      {
        config: { permission: 'git:sync', ...repo },
        schema: {
          operationId: 'syncGitRepository',
          tags,
          summary: 'Clone or fetch the repository as a job run',
          params: IdParams,
          response: { 202: SyncAccepted, ...errorResponses(404, 409, 422) },
        },
      },
      async (req, reply) => reply.code(202).send(await service.requestSync(req.actor, req.params.id)),
    );
    app.get(
      '/git/repositories/:id/status',
      {
        config: { ...read, ...repo },
        schema: {
          operationId: 'getGitRepositoryStatus',
          tags,
          summary: 'Mirror against remote: ahead, behind, last sync',
          params: IdParams,
          response: { 200: RepositoryStatus, ...errorResponses(404, 422) },
        },
      },
      async (req) => service.status(req.actor, req.params.id),
    );
    app.get(
      '/git/repositories/:id/branches',
      {
        config: { ...read, ...repo },
        schema: {
          operationId: 'listGitBranches',
          tags,
          summary: 'Branches of the mirror',
          params: IdParams,
          response: { 200: Branches, ...errorResponses(404) },
        },
      },
      async (req) => service.branches(req.actor, req.params.id),
    );
    app.get(
      '/git/repositories/:id/commits',
      {
        config: { ...read, ...repo },
        schema: {
          operationId: 'listGitCommits',
          tags,
          summary: 'Commits, newest first, by branch, path, author and time',
          params: IdParams,
          querystring: CommitsQuery,
          response: { 200: Page(Commit), ...errorResponses(404, 422) },
        },
      },
      async (req) => service.commits(req.actor, req.params.id, req.query),
    );
    app.get(
      '/git/repositories/:id/files',
      {
        config: { ...read, ...repo },
        schema: {
          operationId: 'listGitFiles',
          tags,
          summary: 'Files under a directory at a ref',
          params: IdParams,
          querystring: FilesQuery,
          response: { 200: FileList, ...errorResponses(404, 422) },
        },
      },
      async (req) => service.files(req.actor, req.params.id, req.query),
    );
    app.get(
      '/git/repositories/:id/files/*',
      {
        config: { ...read, ...repo },
        schema: {
          operationId: 'getGitFile',
          tags,
          summary: 'A file’s content at a ref',
          params: PathParams,
          querystring: RefQuery,
          response: { 200: FileContent, ...errorResponses(404, 422) },
        },
      },
      async (req) => service.content(req.actor, req.params.id, req.params['*'], req.query.ref),
    );
    app.get(
      '/git/repositories/:id/history/*',
      {
        config: { ...read, ...repo },
        schema: {
          operationId: 'getGitFileHistory',
          tags,
          summary: 'A file’s complete history, following renames',
          params: PathParams,
          querystring: HistoryQuery,
          response: { 200: History, ...errorResponses(404, 422) },
        },
      },
      async (req) => service.history(req.actor, req.params.id, req.params['*'], req.query),
    );
    app.post(
      '/git/repositories/:id/diff',
      {
        config: { ...read, ...repo },
        schema: {
          operationId: 'diffGitRefs',
          tags,
          summary: 'Diff between two refs: unified text and structured hunks',
          params: IdParams,
          body: DiffBody,
          response: { 200: Diff, ...errorResponses(404, 422) },
        },
      },
      async (req) => service.diff(req.actor, req.params.id, req.body),
    );
    app.get(
      '/git/repositories/:id/patch',
      {
        config: { ...read, ...repo },
        schema: {
          operationId: 'downloadGitPatch',
          tags,
          summary: 'The diff between two refs as a patch file',
          params: IdParams,
          querystring: PatchQuery,
          produces: ['text/x-patch'],
          response: { 200: Type.String(), ...errorResponses(404, 422) },
        },
      },
      async (req, reply) => {
        const d = await service.diff(req.actor, req.params.id, req.query);
        return reply
          .header('content-type', 'text/x-patch; charset=utf-8')
          .header('content-disposition', `attachment; filename="${d.from.slice(0, 12)}-${d.to.slice(0, 12)}.patch"`)
          .send(d.unified);
      },
    );
    app.post(
      '/configs/compare',
      {
        config: { permission: 'configs:read' },
        schema: {
          operationId: 'compareConfigs',
          tags: ['configs'],
          summary: 'Compare two files (device A against device B)',
          body: CompareBody,
          response: { 200: Comparison, ...errorResponses(404, 422) },
        },
      },
      async (req) => service.compare(req.actor, req.body),
    );
  };
}

/** The public push-webhook route, in its own scope: it reads the body raw, for the signature. */
export function webhookRoutes(service: RepositoriesService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 5_000_000 }, (_req, body, done) => done(null, body));
    app.post(
      '/git/repositories/:id/webhook',
      {
        config: { public: true },
        schema: {
          operationId: 'receiveGitWebhook',
          tags,
          summary: 'Push webhook from GitHub, GitLab or Gitea: triggers a sync',
          description:
            'Authenticated by the sender’s signature with the repository’s webhook secret (X-Hub-Signature-256, X-Gitea-Signature or X-Gitlab-Token), not by a token.',
          params: IdParams,
          body: WebhookBody,
          response: { 202: WebhookAccepted, ...errorResponses() },
        },
      },
      async (req, reply) => reply.code(202).send(await service.webhook(req.params.id, req.headers, req.body)),
    );
  };
}
