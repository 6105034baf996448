/**
 * The runtime settings sections: each key's schema, its default, and (optionally) the
 * `OPSDECK_*` setting it falls back to. A value resolves database → environment → default
 * (settings.fns.ts#resolveSection). Adding a key here is all a new setting needs: the routes,
 * OpenAPI, validation, explain and audit derive from this table.
 */
import { Type, type Static, type TSchema } from 'typebox';
import type { SETTINGS } from '../../config.js';
import { validEgressEntry } from '../../platform/egress/index.js';

export interface KeyDef {
  schema: TSchema;
  /** The default when no configuration key backs it (ignored when `config` is set: config.ts holds that default). */
  default?: unknown;
  /** The config.ts setting (and so `OPSDECK_*` variable) this key falls back to. */
  config?: keyof typeof SETTINGS;
  /** Write-only: stored sealed under the vault key ring, never returned, masked in explain and audit. */
  secret?: boolean;
  /** A rule the schema cannot say: returns the problem, or null. */
  check?: (value: never) => string | null;
  description: string;
}

export interface SectionDef {
  description: string;
  keys: Record<string, KeyDef>;
  /** Security-relevant: changes need a fresh sign-in (step-up). */
  stepUp?: boolean;
}

const int = (minimum: number, maximum: number) => Type.Integer({ minimum, maximum });
const strings = (maxItems: number, maxLength: number) => Type.Array(Type.String({ minLength: 1, maxLength }), { maxItems });
const extension = Type.Array(Type.String({ pattern: '^\\.[A-Za-z0-9_+-]{1,20}$', maxLength: 21 }), { maxItems: 200 });
const egressList = (addressesOnly: boolean) => (v: string[]) => {
  const bad = v.find((e) => !validEgressEntry(e, addressesOnly));
  return bad === undefined ? null : `'${bad.slice(0, 100)}' is not ${addressesOnly ? 'an address or CIDR' : 'an address, CIDR, host name or *.domain entry'}`;
};

export const SECTIONS = {
  general: {
    description: 'Instance name and request logging.',
    keys: {
      instance_name: {
        schema: Type.String({ minLength: 1, maxLength: 100 }),
        default: 'Opsdeck',
        description: 'Shown in the console title and in notifications.',
      },
      request_log: {
        schema: Type.Union([Type.Literal('off'), Type.Literal('debug'), Type.Literal('info')]),
        default: 'off',
        description: 'One structured line per HTTP request (method, route, status, duration, request id, principal) at this level, or none.',
      },
    },
  },
  security: {
    description: 'Password policy, lockout and session lengths; read by identity at every use.',
    stepUp: true,
    keys: {
      password_min_length: { schema: int(8, 128), config: 'passwordMinLength', description: 'Shortest accepted password.' },
      lockout_threshold: { schema: int(1, 1000), config: 'lockoutThreshold', description: 'Failed sign-ins in a row that lock an account.' },
      lockout_seconds: { schema: int(1, 86_400), config: 'lockoutSeconds', description: 'First lock duration; doubles per further failure, capped at 24 h.' },
      access_token_ttl_seconds: { schema: int(30, 86_400), config: 'accessTokenTtlSeconds', description: 'Lifetime of new access tokens.' },
      refresh_token_ttl_seconds: { schema: int(300, 90 * 86_400), config: 'refreshTokenTtlSeconds', description: 'Lifetime of new refresh tokens.' },
      step_up_window_seconds: {
        schema: int(30, 86_400),
        config: 'stepUpWindowSeconds',
        description: 'How recent a password sign-in sensitive operations need.',
      },
    },
  },
  egress: {
    description: 'Outbound HTTP policy (webhooks, HTTP jobs); applied to the next request.',
    stepUp: true,
    keys: {
      allow: { schema: strings(500, 255), config: 'egressAllow', check: egressList(false), description: 'When non-empty, the only outbound targets.' },
      deny: { schema: strings(500, 255), config: 'egressDeny', check: egressList(false), description: 'Refused outbound targets.' },
      allow_internal: {
        schema: strings(500, 255),
        config: 'egressAllowInternal',
        check: egressList(true),
        description: 'Internal addresses (loopback, link-local…) that may still be reached.',
      },
    },
  },
  git: {
    description: 'Defaults of Git repositories.',
    keys: {
      timeout_seconds: { schema: int(5, 86_400), config: 'gitTimeoutSeconds', description: 'Longest a git command may run.' },
      max_repo_mb: { schema: int(1, 1_048_576), config: 'gitMaxRepoMb', description: 'Largest mirror a repository may take on disk, in MiB.' },
      allowed_extensions: {
        schema: extension,
        config: 'gitAllowedExtensions',
        description:
          "File extensions a repository's file list shows when the repository names none (its `allowed_extensions` wins); other files stay readable by path.",
      },
    },
  },
  cache: {
    description: 'What the cache loads at start and how often it refreshes it.',
    keys: {
      prefetch: {
        schema: Type.Array(Type.String({ pattern: '^[a-z][a-z0-9_.-]{0,62}$', maxLength: 63 }), { maxItems: 50 }),
        default: [],
        description: 'Cache namespaces loaded at start.',
      },
      refresh_interval_seconds: { schema: int(0, 86_400), default: 300, description: 'How often prefetched namespaces are reloaded (0: never).' },
    },
  },
  files: {
    description: 'Upload limits, quotas and content policy (the files module reads them at every upload).',
    keys: {
      max_upload_mb: { schema: int(1, 10_240), default: 50, description: 'Largest accepted upload, in MiB.' },
      allowed_extensions: {
        schema: extension,
        default: ['.txt', '.cfg', '.conf', '.csv', '.json', '.yaml', '.yml', '.j2', '.png', '.jpg', '.svg', '.bin', '.img', '.qcow2', '.vmdk', '.iso', '.raw'],
        description: 'Accepted upload extensions.',
      },
      allowed_types: {
        schema: Type.Array(Type.String({ pattern: '^[a-z0-9.+-]{1,50}/[a-z0-9.+-]{1,50}$', maxLength: 101 }), { maxItems: 200 }),
        default: [
          'text/plain',
          'image/png',
          'image/jpeg',
          'image/svg+xml',
          'application/octet-stream',
          'application/x-qemu-disk',
          'application/x-vmdk',
          'application/x-iso9660-image',
        ],
        description:
          "Accepted content types, as the content's first bytes say (magic numbers), never the name: text is `text/plain`, unrecognised binary `application/octet-stream`.",
      },
      quota_mb: { schema: int(1, 104_857_600), default: 10_240, description: "Bytes one user's files and unfinished uploads may take together, in MiB." },
      upload_expiry_hours: { schema: int(1, 720), default: 24, description: 'An unfinished upload untouched this long is deleted with its temporary file.' },
      allow_backing_files: {
        schema: Type.Boolean(),
        default: false,
        description: 'Whether a disk image naming a backing file may be registered (it would read another file of the host).',
      },
    },
  },
  notifications: {
    description: 'Defaults of e-mail notifications.',
    keys: {
      smtp_host: { schema: Type.String({ maxLength: 255 }), default: '', description: 'SMTP server (empty: e-mail off).' },
      smtp_port: { schema: int(1, 65_535), default: 587, description: 'SMTP port.' },
      smtp_username: { schema: Type.String({ maxLength: 255 }), default: '', description: 'SMTP user (empty: no authentication).' },
      smtp_password: { schema: Type.String({ maxLength: 1000 }), default: '', secret: true, description: 'SMTP password (write-only).' },
      from_address: { schema: Type.String({ maxLength: 255 }), default: '', description: 'Sender address.' },
      default_severity: {
        schema: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
        default: 'warning',
        description: 'Lowest severity notified when a rule names none.',
      },
      security_channel_id: {
        schema: Type.String({ maxLength: 100 }),
        default: '',
        description:
          'Id of the e-mail notification channel that sends users their own security notices (lockout, 2FA changes, recovery-code use, password changes) at their own address; empty: none are sent.',
      },
    },
  },
  discovery: {
    description: 'Network discovery scans (POST /api/v1/discovery/scans).',
    keys: {
      max_hosts_per_scan: {
        schema: int(1, 1_000_000),
        default: 4096,
        description: 'Addresses one scan may probe after excludes; more are refused with 422 `body.targets` (OPSDECK_RUN_MAX_TARGETS bounds it too).',
      },
    },
  },
  logs: {
    description: 'The persisted system log (GET /api/v1/system/logs).',
    keys: {
      retention_days: { schema: int(1, 3650), default: 14, description: 'Rows older than this are deleted.' },
      max_rows: { schema: int(1000, 10_000_000), default: 100_000, description: 'At most this many rows are kept (oldest go first).' },
    },
  },
} satisfies Record<string, SectionDef>;

export type SectionName = keyof typeof SECTIONS;
export const SECTION_NAMES = Object.keys(SECTIONS) as SectionName[];

type KeysOf<S extends SectionName> = (typeof SECTIONS)[S]['keys'];
/** The effective values of a section, typed from its schemas. */
export type SectionValues<S extends SectionName> = {
  readonly [K in keyof KeysOf<S>]: KeysOf<S>[K] extends { schema: infer T extends TSchema } ? Static<T> : never;
};

export function sectionDef(name: SectionName): SectionDef {
  return SECTIONS[name];
}
