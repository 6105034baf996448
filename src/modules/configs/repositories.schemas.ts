import { Type, type Static } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../../platform/http/schemas.js';
import { PageQuery } from '../../platform/http/pagination.js';

export const CATEGORIES = ['configs', 'templates', 'textfsm', 'onboarding'] as const;
export const SYNC_STATUSES = ['never', 'queued', 'running', 'ok', 'failed'] as const;

const Category = Type.Union(
  CATEGORIES.map((c) => Type.Literal(c)),
  { description: 'What the repository holds' },
);
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]*$' });
const Url = Type.String({
  minLength: 1,
  maxLength: 2048,
  description: 'https://…, ssh://… or user@host:path (schemes enabled by OPSDECK_GIT_SCHEMES); never with a password in it',
});
const Branch = Type.String({ minLength: 1, maxLength: 255, description: 'Branch to sync (main)' });
const RepoPath = Type.String({ maxLength: 1024, description: 'Directory inside the repository this registration covers ("" = the whole repository)' });
const CaCert = Type.String({ maxLength: 65_536, description: 'PEM certificates trusted for this remote' });
const Ref = Type.String({ minLength: 1, maxLength: 255, description: 'Branch, tag or commit (default: the repository branch)' });
const FilePath = Type.String({ maxLength: 1024, description: 'Path relative to the repository path' });

const AllowedExtensions = Type.Array(Type.String({ minLength: 2, maxLength: 21, pattern: '^\\.[A-Za-z0-9_+-]{1,20}$' }), {
  maxItems: 50,
  uniqueItems: true,
  description: 'File extensions the file list shows (`.cfg`); null: the git settings section allowed_extensions (OPSDECK_GIT_ALLOWED_EXTENSIONS)',
});

const Connection = {
  url: Url,
  branch: Type.Optional(Branch),
  credential_id: Type.Optional(Nullable(Uuid)),
  verify_tls: Type.Optional(Type.Boolean({ description: 'Verify the server certificate (true)' })),
  ca_cert: Type.Optional(Nullable(CaCert)),
};

export const CreateRepositoryBody = Type.Object(
  {
    name: Name,
    category: Category,
    ...Connection,
    path: Type.Optional(RepoPath),
    sync_interval_seconds: Type.Optional(
      Nullable(Type.Integer({ minimum: 60, maximum: 604_800, description: 'Sync every n seconds (null: only on demand or webhook)' })),
    ),
    description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
    active: Type.Optional(Type.Boolean()),
    webhook_credential_id: Type.Optional(Nullable(Uuid)),
    allowed_extensions: Type.Optional(Nullable(AllowedExtensions)),
  },
  { additionalProperties: false },
);
export type CreateRepositoryBody = Static<typeof CreateRepositoryBody>;

export const UpdateRepositoryBody = Type.Partial(CreateRepositoryBody, { additionalProperties: false });
export type UpdateRepositoryBody = Static<typeof UpdateRepositoryBody>;

export const TestConnectionBody = Type.Object(Connection, { additionalProperties: false });
export type TestConnectionBody = Static<typeof TestConnectionBody>;

export const Repository = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    category: Category,
    url: Type.String(),
    branch: Type.String(),
    path: Type.String(),
    credential_id: Nullable(Uuid),
    verify_tls: Type.Boolean(),
    ca_cert_set: Type.Boolean(),
    sync_interval_seconds: Nullable(Type.Integer()),
    description: Nullable(Type.String()),
    active: Type.Boolean(),
    last_sync_at: Nullable(Timestamp),
    last_sync_status: Type.Union(SYNC_STATUSES.map((s) => Type.Literal(s))),
    last_sync_error: Nullable(Type.String()),
    last_sync_run_id: Nullable(Uuid),
    head_commit: Nullable(Type.String()),
    webhook_credential_id: Nullable(Uuid),
    allowed_extensions: Nullable(Type.Array(Type.String())),
    next_sync_at: Nullable({ ...Timestamp, description: 'When the next scheduled sync is due (null with an interval: at the next scheduler pass)' }),
    sync_owner_id: Nullable({
      ...Type.String(),
      description: 'Who set the sync interval: scheduled syncs run as this user, whose git:sync right (and sight of the credential) is checked at every fire',
    }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);
export type Repository = Static<typeof Repository>;

export const ListRepositoriesQuery = Type.Object(
  {
    ...PageQuery,
    category: Type.Optional(Type.Array(Category, { maxItems: 4 })),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const BranchRef = Type.Object({ name: Type.String(), commit: Type.String() }, { additionalProperties: false });
export const ConnectionResult = Type.Object(
  { ok: Type.Boolean(), branch_found: Type.Boolean(), branches: Type.Array(BranchRef), error: Nullable(Type.String()), code: Nullable(Type.String()) },
  { additionalProperties: false },
);
export const Branches = Type.Object({ items: Type.Array(BranchRef) }, { additionalProperties: false });

export const RepositoryStatus = Type.Object(
  {
    synced: Type.Boolean(),
    head_commit: Nullable(Type.String()),
    remote_commit: Nullable(Type.String({ description: 'The branch head on the remote now (null if unreachable)' })),
    ahead: Type.Integer({ description: 'Commits the mirror has that the remote branch does not' }),
    behind: Type.Integer({ description: 'Commits the remote branch has that the mirror does not fetch yet (0 or 1 when unknown until the next sync)' }),
    dirty: Type.Boolean({ description: 'Always false: mirrors are bare and never edited in place' }),
    remote_error: Nullable(Type.String()),
    last_sync_at: Nullable(Timestamp),
    last_sync_status: Type.String(),
  },
  { additionalProperties: false },
);

export const SyncAccepted = Type.Object({ run_id: Uuid, status: Type.String(), repository_id: Uuid }, { additionalProperties: false });

export const Commit = Type.Object(
  { sha: Type.String(), author_name: Type.String(), author_email: Type.String(), committed_at: Timestamp, message: Type.String() },
  { additionalProperties: false },
);
export type Commit = Static<typeof Commit>;

export const CommitsQuery = Type.Object(
  {
    ...PageQuery,
    ref: Type.Optional(Ref),
    path: Type.Optional(FilePath),
    author: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Author name or e-mail contains (literal text)' })),
    since: Type.Optional(Timestamp),
    until: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
export type CommitsQuery = Static<typeof CommitsQuery>;

export const FilesQuery = Type.Object({ ref: Type.Optional(Ref), path: Type.Optional(FilePath) }, { additionalProperties: false });
export const RefQuery = Type.Object({ ref: Type.Optional(Ref) }, { additionalProperties: false });
export const HistoryQuery = Type.Object(
  { ref: Type.Optional(Ref), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
  { additionalProperties: false },
);
export const PathParams = Type.Object({ id: Uuid, '*': Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });

export const FileEntry = Type.Object(
  {
    path: Type.String(),
    type: Type.Union([Type.Literal('file'), Type.Literal('symlink'), Type.Literal('submodule'), Type.Literal('directory')]),
    size: Nullable(Type.Integer()),
  },
  { additionalProperties: false },
);
export const FileList = Type.Object({ commit: Type.String(), items: Type.Array(FileEntry) }, { additionalProperties: false });

export const FileContent = Type.Object(
  {
    path: Type.String(),
    commit: Type.String(),
    blob: Type.String(),
    size: Type.Integer(),
    encoding: Type.Union([Type.Literal('utf8'), Type.Literal('base64')]),
    content: Type.String(),
  },
  { additionalProperties: false },
);

export const HistoryEntry = Type.Object(
  { ...Commit.properties, path: Type.String({ description: 'The file’s path in that commit (renames followed)' }), change: Type.String() },
  { additionalProperties: false },
);
export const History = Type.Object({ path: Type.String(), items: Type.Array(HistoryEntry) }, { additionalProperties: false });

const DiffLine = Type.Object(
  {
    type: Type.Union([Type.Literal('context'), Type.Literal('add'), Type.Literal('delete')]),
    old_line: Nullable(Type.Integer()),
    new_line: Nullable(Type.Integer()),
    text: Type.String(),
  },
  { additionalProperties: false },
);
const DiffHunk = Type.Object(
  {
    header: Type.String(),
    old_start: Type.Integer(),
    old_lines: Type.Integer(),
    new_start: Type.Integer(),
    new_lines: Type.Integer(),
    lines: Type.Array(DiffLine),
  },
  { additionalProperties: false },
);
export const DiffFile = Type.Object(
  {
    old_path: Nullable(Type.String()),
    new_path: Nullable(Type.String()),
    status: Type.Union([Type.Literal('added'), Type.Literal('deleted'), Type.Literal('modified'), Type.Literal('renamed')]),
    binary: Type.Boolean(),
    additions: Type.Integer(),
    deletions: Type.Integer(),
    hunks: Type.Array(DiffHunk),
  },
  { additionalProperties: false },
);

export const DiffBody = Type.Object({ from: Ref, to: Ref, path: Type.Optional(FilePath) }, { additionalProperties: false });
export type DiffBody = Static<typeof DiffBody>;
export const PatchQuery = Type.Object({ from: Ref, to: Ref, path: Type.Optional(FilePath) }, { additionalProperties: false });
export const Diff = Type.Object(
  { from: Type.String({ description: 'Commit id' }), to: Type.String({ description: 'Commit id' }), unified: Type.String(), files: Type.Array(DiffFile) },
  { additionalProperties: false },
);

const CompareSide = Type.Object({ repository_id: Uuid, path: FilePath, ref: Type.Optional(Ref) }, { additionalProperties: false });
export const CompareBody = Type.Object({ a: CompareSide, b: CompareSide }, { additionalProperties: false });
export type CompareBody = Static<typeof CompareBody>;
const ComparedSide = Type.Object({ repository_id: Uuid, path: Type.String(), commit: Type.String() }, { additionalProperties: false });
export const Comparison = Type.Object(
  { a: ComparedSide, b: ComparedSide, identical: Type.Boolean(), unified: Type.String(), file: DiffFile },
  { additionalProperties: false },
);

export const WebhookAccepted = Type.Object({ run_id: Uuid, scheme: Type.String() }, { additionalProperties: false });
export const WebhookBody = Type.String({ maxLength: 5_000_000, description: 'The push event as the Git host sends it (read raw for the signature)' });
