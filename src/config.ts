/**
 * Configuration: every setting comes from an `OPSDECK_*` environment variable, is parsed and
 * checked once at start-up against the table below, and is then frozen and injected. Modules
 * never read `process.env`. The README's configuration table is generated from `SETTINGS`
 * (`npm run docs`) and a test fails when the two drift apart.
 */
import path from 'node:path';
import { validEgressEntry } from './platform/egress/index.js';

type Parser<T> = (raw: string) => { value: T } | { expected: string };

interface Setting<T> {
  env: string;
  description: string;
  /** Shown in the README and used when the variable is unset; `undefined` means "unset". */
  default: string | undefined;
  parse: Parser<T>;
  /** Masked in `opsdeck config` and in error messages. */
  secret?: boolean;
}

function setting<T, D extends string | undefined>(s: Setting<T> & { default: D }): Setting<T> & { default: D } {
  return s;
}

const str =
  (maxLength = 4096): Parser<string> =>
  (raw) =>
    raw.length > 0 && raw.length <= maxLength ? { value: raw } : { expected: `a non-empty string of at most ${maxLength} characters` };

const int =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    const n = Number(raw);
    return /^-?\d+$/.test(raw.trim()) && n >= min && n <= max ? { value: n } : { expected: `an integer from ${min} to ${max}` };
  };

const oneOf =
  <T extends string>(...choices: T[]): Parser<T> =>
  (raw) =>
    (choices as string[]).includes(raw) ? { value: raw as T } : { expected: `one of ${choices.join(', ')}` };

const bool: Parser<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return { value: true };
  if (['0', 'false', 'no', 'off'].includes(v)) return { value: false };
  return { expected: 'true or false' };
};

const egressEntry =
  (addressesOnly: boolean): Parser<string> =>
  (raw) =>
    raw.length <= 255 && validEgressEntry(raw, addressesOnly)
      ? { value: raw }
      : { expected: addressesOnly ? 'addresses or CIDRs (10.0.0.0/8, ::1)' : 'addresses, CIDRs, host names or *.domain entries' };

const url =
  (...schemes: string[]): Parser<string> =>
  (raw) => {
    try {
      const u = new URL(raw);
      if (schemes.includes(u.protocol.slice(0, -1))) return { value: raw };
    } catch {
      // fall through to the message below
    }
    return { expected: `a URL with scheme ${schemes.map((s) => `${s}://`).join(' or ')}` };
  };

const list =
  <T extends string>(item: Parser<T>, allowEmpty = true): Parser<T[]> =>
  (raw) => {
    const parts = raw
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p.length > 0);
    if (!allowEmpty && parts.length === 0) return { expected: 'a comma-separated list with at least one entry' };
    const out: T[] = [];
    for (const p of parts) {
      const r = item(p);
      if ('expected' in r) return { expected: `a comma-separated list of ${r.expected}` };
      out.push(r.value);
    }
    return { value: out };
  };

/**
 * An upper estimate of a secret's entropy: its length times the Shannon entropy of its own
 * character frequencies. 'ssss…' scores 0 and a repeated word little; 48 random base64 bytes
 * score about 380. Refusing below MIN_SECRET_BITS catches the placeholder, not a weak password.
 */
export function estimatedEntropyBits(secret: string): number {
  const counts = new Map<string, number>();
  for (const ch of secret) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const n = [...secret].length;
  let perChar = 0;
  for (const c of counts.values()) perChar -= (c / n) * Math.log2(c / n);
  return perChar * n;
}
/** 32 random hex digits (128 bits) estimate at about 117: the floor leaves them room. */
const MIN_SECRET_BITS = 96;

/** Whether the text is one shorter part repeated ('changeme' five times). */
function repeats(text: string): boolean {
  for (let period = 1; period <= text.length / 2; period++) {
    if (text.length % period === 0 && text.slice(period) === text.slice(0, -period)) return true;
  }
  return false;
}

const origin: Parser<string> = (raw) => {
  if (raw === '*') return { value: raw };
  try {
    const u = new URL(raw);
    if ((u.protocol === 'http:' || u.protocol === 'https:') && u.pathname === '/' && !raw.endsWith('/')) return { value: u.origin };
  } catch {
    // fall through
  }
  return { expected: 'origins like https://ops.example.com (scheme://host[:port], no path) or *' };
};

const base64Key32: Parser<string> = (raw) =>
  /^[A-Za-z0-9+/]+={0,2}$/.test(raw) && Buffer.from(raw, 'base64').length === 32
    ? { value: raw }
    : { expected: 'base64 of exactly 32 random bytes (openssl rand -base64 32)' };

const redisName: Parser<string> = (raw) =>
  /^[A-Za-z0-9_.-]{1,100}$/.test(raw) ? { value: raw } : { expected: 'letters, digits, `_`, `.`, `-` (at most 100)' };

export const ROLES = ['api', 'worker', 'scheduler'] as const;
export type Role = (typeof ROLES)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const SETTINGS = {
  host: setting({ env: 'OPSDECK_HOST', description: 'Address the HTTP server binds to.', default: '127.0.0.1', parse: str(255) }),
  port: setting({ env: 'OPSDECK_PORT', description: 'TCP port of the HTTP server.', default: '8000', parse: int(0, 65535) }),
  workerHealthPort: setting({
    env: 'OPSDECK_WORKER_HEALTH_PORT',
    description:
      '`opsdeck worker` only: TCP port of its health listener (`/health`, `/health/ready`, `/metrics`) on `OPSDECK_HOST`. `0`: any free port, logged at start; set a fixed one for liveness and readiness probes.',
    default: '0',
    parse: int(0, 65535),
  }),
  dataDir: setting({
    env: 'OPSDECK_DATA_DIR',
    description: 'Directory for the SQLite database and key files (created on first start).',
    default: './data',
    parse: str(),
  }),
  databaseUrl: setting({
    env: 'OPSDECK_DATABASE_URL',
    description: 'Unset: SQLite in the data directory. `postgres://user:pass@host:5432/db`: PostgreSQL 13+.',
    default: undefined,
    parse: url('postgres', 'postgresql'),
    secret: true,
  }),
  redisUrl: setting({
    env: 'OPSDECK_REDIS_URL',
    description: 'Set (`redis://…`) to run in cluster mode: BullMQ queue, Redis pub/sub, L2 cache, shared rate limits.',
    default: undefined,
    parse: url('redis', 'rediss'),
    secret: true,
  }),
  redisPrefix: setting({
    env: 'OPSDECK_REDIS_PREFIX',
    description:
      'Prefix of every Redis key and pub/sub channel (cache, event bus, rate limits, token revocations, job queue): deployments sharing one Redis need different ones.',
    default: 'opsdeck',
    parse: redisName,
  }),
  roles: setting({
    env: 'OPSDECK_ROLES',
    description: 'Roles this process plays: `api`, `worker`, `scheduler` (comma-separated). `opsdeck worker` forces `worker`.',
    default: 'api,worker,scheduler',
    parse: list(oneOf(...ROLES), false),
  }),
  logLevel: setting({ env: 'OPSDECK_LOG_LEVEL', description: 'Log level.', default: 'info', parse: oneOf(...LOG_LEVELS) }),
  logPretty: setting({
    env: 'OPSDECK_LOG_PRETTY',
    description: 'Human-readable logs. Default: on when standard output is a terminal.',
    default: undefined,
    parse: bool,
  }),
  corsOrigins: setting({
    env: 'OPSDECK_CORS_ORIGINS',
    description: 'Browser origins allowed to call the API (comma-separated). Empty: no cross-origin access.',
    default: '',
    parse: list(origin),
  }),
  trustProxy: setting({
    env: 'OPSDECK_TRUST_PROXY',
    description: 'Trust `X-Forwarded-*` headers from a reverse proxy (client IPs in audit and rate limits).',
    default: 'false',
    parse: bool,
  }),
  bodyLimitBytes: setting({
    env: 'OPSDECK_BODY_LIMIT_BYTES',
    description: 'Largest accepted request body; larger ones get 413.',
    default: '10485760',
    parse: int(1024, 1024 * 1024 * 1024),
  }),
  httpMaxConcurrent: setting({
    env: 'OPSDECK_HTTP_MAX_CONCURRENT',
    description:
      'Requests one process works on at once; more wait in a short queue (`OPSDECK_HTTP_QUEUE_SIZE`), past it they get 503 `OVERLOADED` with `Retry-After`. `/health`, `/health/ready`, `/metrics` and live streams are never limited.',
    default: '32',
    parse: int(1, 100_000),
  }),
  httpQueueSize: setting({
    env: 'OPSDECK_HTTP_QUEUE_SIZE',
    description: 'Requests that may wait for one of the `OPSDECK_HTTP_MAX_CONCURRENT` slots; 0 refuses at once when all are busy.',
    default: '64',
    parse: int(0, 100_000),
  }),
  httpQueueTimeoutMs: setting({
    env: 'OPSDECK_HTTP_QUEUE_TIMEOUT_MS',
    description: 'Longest a request waits in that queue before it is answered 503 `OVERLOADED` instead.',
    default: '1000',
    parse: int(1, 600_000),
  }),
  shutdownTimeoutMs: setting({
    env: 'OPSDECK_SHUTDOWN_TIMEOUT_MS',
    description: 'How long shutdown waits for in-flight requests and jobs before closing anyway.',
    default: '10000',
    parse: int(0, 600_000),
  }),
  sqliteReaders: setting({
    env: 'OPSDECK_SQLITE_READERS',
    description:
      'SQLite: worker threads, each with a read-only connection, that run reads outside transactions off the event loop (0: every query on the one connection). Off by default: on this 2-core machine it cost more CPU per request than it freed (docs/architecture.md).',
    default: '0',
    parse: int(0, 16),
  }),
  dbPoolSize: setting({ env: 'OPSDECK_DB_POOL_SIZE', description: 'PostgreSQL connection pool size per process.', default: '10', parse: int(1, 500) }),
  metricsEnabled: setting({ env: 'OPSDECK_METRICS', description: 'Serve Prometheus metrics at `/metrics`.', default: 'true', parse: bool }),
  jwtSecret: setting({
    env: 'OPSDECK_JWT_SECRET',
    description: 'HS256 secret for access tokens (at least 32 characters). Unset on a single node: generated into the data directory on first start.',
    default: undefined,
    parse: (raw) =>
      raw.length < 32 || raw.length > 1024
        ? { expected: 'at least 32 characters' }
        : estimatedEntropyBits(raw) < MIN_SECRET_BITS || repeats(raw)
          ? {
              expected: `a random secret of at least ${MIN_SECRET_BITS} bits of entropy (this one ${repeats(raw) ? 'repeats a pattern' : `has about ${Math.round(estimatedEntropyBits(raw))}`}); e.g. openssl rand -base64 48`,
            }
          : { value: raw },
    secret: true,
  }),
  adminPassword: setting({
    env: 'OPSDECK_ADMIN_PASSWORD',
    description: 'Password of the `admin` user created on first start. Unset: a strong one is generated and printed once.',
    default: undefined,
    parse: str(256),
    secret: true,
  }),
  jwtAlgorithm: setting({
    env: 'OPSDECK_JWT_ALGORITHM',
    description: 'Access-token signature: `HS256` (shared secret) or `EdDSA` / `RS256` (private key file; public key served at `/api/v1/auth/jwks.json`).',
    default: 'HS256',
    parse: oneOf('HS256', 'EdDSA', 'RS256'),
  }),
  jwtPrivateKeyFile: setting({
    env: 'OPSDECK_JWT_PRIVATE_KEY_FILE',
    description: 'PKCS#8 PEM private key (Ed25519 for EdDSA, RSA ≥ 2048 bits for RS256). Required with those algorithms.',
    default: undefined,
    parse: str(),
  }),
  jwtIssuer: setting({
    env: 'OPSDECK_JWT_ISSUER',
    description: 'The `iss` claim of access tokens; tokens from another issuer are refused.',
    default: 'opsdeck',
    parse: str(200),
  }),
  accessTokenTtlSeconds: setting({
    env: 'OPSDECK_ACCESS_TOKEN_TTL_SECONDS',
    description: 'Lifetime of access tokens (JWT), 60 minutes by default (refresh tokens: OPSDECK_REFRESH_TOKEN_TTL_SECONDS, 7 days).',
    default: '3600',
    parse: int(30, 86_400),
  }),
  refreshTokenTtlSeconds: setting({
    env: 'OPSDECK_REFRESH_TOKEN_TTL_SECONDS',
    description: 'Lifetime of refresh tokens (rotated on every use).',
    default: '604800',
    parse: int(300, 90 * 86_400),
  }),
  passwordMinLength: setting({
    env: 'OPSDECK_PASSWORD_MIN_LENGTH',
    description: 'Shortest accepted password (maximum is 128).',
    default: '12',
    parse: int(8, 128),
  }),
  lockoutThreshold: setting({
    env: 'OPSDECK_LOCKOUT_THRESHOLD',
    description: 'Failed logins in a row after which an account is locked (each further failure doubles the lock).',
    default: '5',
    parse: int(1, 1000),
  }),
  lockoutSeconds: setting({
    env: 'OPSDECK_LOCKOUT_SECONDS',
    description: 'First lock duration; doubles per further failure, capped at 24 h.',
    default: '60',
    parse: int(1, 86_400),
  }),
  stepUpWindowSeconds: setting({
    env: 'OPSDECK_STEP_UP_WINDOW_SECONDS',
    description:
      'Sensitive operations (admin-right API keys and users, role changes, removing 2FA, revealing secrets) need a password sign-in at most this old; else 401 REAUTH_REQUIRED and `POST /api/v1/auth/reauth`.',
    default: '600',
    parse: int(30, 86_400),
  }),
  authRateLimit: setting({
    env: 'OPSDECK_AUTH_RATE_LIMIT',
    description: 'Requests per minute one client IP may make to `/api/v1/auth/login` and `/api/v1/auth/refresh` (shared through Redis in cluster mode).',
    default: '30',
    parse: int(1, 1_000_000),
  }),
  rateLimitPerMinute: setting({
    env: 'OPSDECK_RATE_LIMIT_PER_MINUTE',
    description:
      'Requests per minute one principal (user or API key) may make to authenticated routes; more get 429 with `Retry-After` (shared through Redis in cluster mode). Sign-in and refresh have `OPSDECK_AUTH_RATE_LIMIT` instead.',
    default: '600',
    parse: int(1, 10_000_000),
  }),
  masterKey: setting({
    env: 'OPSDECK_MASTER_KEY',
    description:
      'Credential vault master key(s): `keyid:base64` (32 random bytes), comma-separated, newest last; new data keys are wrapped under the newest (`opsdeck keys generate` makes one). Required in cluster mode; unset on a single node: a key file generated in the data directory. Lost keys mean lost credentials: back them up.',
    default: undefined,
    parse: (raw) => {
      const parsed = list((entry) => {
        const [id, key] = entry.includes(':') ? (entry.split(':', 2) as [string, string]) : ['k1', entry];
        return /^[A-Za-z0-9_-]{1,32}$/.test(id) && 'value' in base64Key32(key)
          ? { value: `${id}:${key}` }
          : { expected: 'keyid:base64 of exactly 32 random bytes (openssl rand -base64 32)' };
      }, false)(raw);
      if ('expected' in parsed) return parsed;
      const ids = parsed.value.map((e) => e.slice(0, e.indexOf(':')));
      return new Set(ids).size === ids.length ? parsed : { expected: 'distinct key ids (each keyid:base64 entry needs its own id)' };
    },
    secret: true,
  }),
  textfsmLibraryDirs: setting({
    env: 'OPSDECK_TEXTFSM_LIBRARY_DIRS',
    description: 'Directories laid out like ntc-templates (`*.textfsm` files and an `index`), comma-separated.',
    default: '',
    parse: list(str()),
  }),
  templateRenderTimeoutMs: setting({
    env: 'OPSDECK_TEMPLATE_RENDER_TIMEOUT_MS',
    description: 'Time budget of one template render (worker thread, step-counted); a template still running then is stopped with 422 `TEMPLATE_LIMIT`.',
    default: '2000',
    parse: int(100, 60_000),
  }),
  templateRenderWorkers: setting({
    env: 'OPSDECK_TEMPLATE_RENDER_WORKERS',
    description: 'Worker threads that render templates at once (each started on first use).',
    default: '2',
    parse: int(1, 64),
  }),
  gitSchemes: setting({
    env: 'OPSDECK_GIT_SCHEMES',
    description:
      "URL schemes Git repositories may use (comma-separated from https, ssh, http, git, file). `file` reads the server's own disk and `http`/`git` are unencrypted: enable them only when that is intended.",
    default: 'https,ssh',
    parse: list(oneOf('https', 'ssh', 'http', 'git', 'file'), false),
  }),
  gitTimeoutSeconds: setting({
    env: 'OPSDECK_GIT_TIMEOUT_SECONDS',
    description: 'Longest a git command (clone, fetch, ls-remote) may run before it is killed.',
    default: '300',
    parse: int(5, 86_400),
  }),
  gitMaxRepoMb: setting({
    env: 'OPSDECK_GIT_MAX_REPO_MB',
    description: 'Largest mirror a Git repository may take on disk, in MiB; a sync past it fails and the mirror is removed.',
    default: '2048',
    parse: int(1, 1_048_576),
  }),
  gitAllowedExtensions: setting({
    env: 'OPSDECK_GIT_ALLOWED_EXTENSIONS',
    description:
      'File extensions a Git repository’s file list shows (comma-separated, case-insensitive); other files (binaries, archives, editor leftovers) are hidden. A repository’s `allowed_extensions` overrides it.',
    default: '.cfg,.conf,.txt,.j2,.jinja2,.textfsm,.template,.yaml,.yml,.json',
    parse: list(
      (raw) =>
        /^\.[A-Za-z0-9_+-]{1,20}$/.test(raw) ? { value: raw.toLowerCase() } : { expected: 'extensions such as .cfg (a dot, then letters, digits, _, + or -)' },
      false,
    ),
  }),
  nautobotUrl: setting({
    env: 'OPSDECK_NAUTOBOT_URL',
    description: 'Nautobot base URL used when no connection is saved under /api/v1/integrations/nautobot (the saved one wins).',
    default: undefined,
    parse: url('https', 'http'),
  }),
  nautobotToken: setting({
    env: 'OPSDECK_NAUTOBOT_TOKEN',
    description: 'Nautobot API token for `OPSDECK_NAUTOBOT_URL` (fallback only; a saved connection takes its token from the credential vault).',
    default: undefined,
    parse: str(500),
    secret: true,
  }),
  netboxUrl: setting({
    env: 'OPSDECK_NETBOX_URL',
    description: 'NetBox base URL used when no connection is saved under /api/v1/integrations/netbox (the saved one wins).',
    default: undefined,
    parse: url('https', 'http'),
  }),
  netboxToken: setting({
    env: 'OPSDECK_NETBOX_TOKEN',
    description: 'NetBox API token for `OPSDECK_NETBOX_URL` (fallback only; a saved connection takes its token from the credential vault).',
    default: undefined,
    parse: str(500),
    secret: true,
  }),
  jobsConcurrency: setting({
    env: 'OPSDECK_JOBS_CONCURRENCY',
    description: 'Job runs one worker process executes at once.',
    default: '10',
    parse: int(1, 1000),
  }),
  jobsExecutorConcurrency: setting({
    env: 'OPSDECK_JOBS_EXECUTOR_CONCURRENCY',
    description: 'Per-executor limits per worker, e.g. `ssh_command=20,ping=50` (comma-separated `type=n`). Unlisted types share the global limit.',
    default: '',
    parse: list((raw) => (/^[a-z][a-z0-9_]{0,49}=[1-9][0-9]{0,3}$/.test(raw) ? { value: raw } : { expected: 'type=n entries such as ssh_command=20' })),
  }),
  jobsLeaseMs: setting({
    env: 'OPSDECK_JOBS_LEASE_MS',
    description: 'How long a worker owns a running job without renewing it; a killed worker’s runs are recovered after this.',
    default: '30000',
    parse: int(500, 3_600_000),
  }),
  workflowsLeaseMs: setting({
    env: 'OPSDECK_WORKFLOWS_LEASE_MS',
    description: 'How long a worker owns a running workflow execution without renewing it; a killed worker’s executions resume elsewhere after this.',
    default: '30000',
    parse: int(500, 3_600_000),
  }),
  jobsLogLinesMax: setting({
    env: 'OPSDECK_JOBS_LOG_LINES_MAX',
    description: 'Log lines kept per run; later lines are dropped after a truncation marker.',
    default: '50000',
    parse: int(10, 10_000_000),
  }),
  jobsDeviceSessions: setting({
    env: 'OPSDECK_JOBS_DEVICE_SESSIONS',
    description: 'Concurrent sessions per device across all runs and executors.',
    default: '1',
    parse: int(1, 100),
  }),
  runMaxTargets: setting({
    env: 'OPSDECK_RUN_MAX_TARGETS',
    description:
      'Targets one run may name (hosts and inventory selectors, and the devices its selectors resolve to); more are refused with 422 `body.targets`.',
    default: '1000',
    parse: int(1, 10_000),
  }),
  runMaxProbes: setting({
    env: 'OPSDECK_RUN_MAX_PROBES',
    description:
      'Probes one run may make: targets × ports of a `tcp_port_scan` (other types count one per target); more are refused with 422 `body.params.ports`.',
    default: '100000',
    parse: int(1, 100_000_000),
  }),
  runMaxActivePerUser: setting({
    env: 'OPSDECK_RUN_MAX_ACTIVE_PER_USER',
    description:
      'Queued and running runs one person may have at once (their own, their API keys’ and their schedules’); another is refused with 429 and `Retry-After`.',
    default: '200',
    parse: int(1, 1_000_000),
  }),
  jobsLocalCommands: setting({
    env: 'OPSDECK_JOBS_LOCAL_COMMANDS',
    description: 'Executables `local_command` jobs may run (bare names or absolute paths, comma-separated). Empty: none.',
    default: '',
    parse: list(str(1024)),
  }),
  jobsQueue: setting({
    env: 'OPSDECK_JOBS_QUEUE',
    description: 'BullMQ key prefix for the job queue. Unset: `OPSDECK_REDIS_PREFIX`.',
    default: undefined,
    parse: redisName,
  }),
  egressAllow: setting({
    env: 'OPSDECK_EGRESS_ALLOW',
    description:
      'Outbound HTTP (`http_request`, webhooks) allow-list: CIDRs, addresses, host names, `*.domain`. Empty: anything the other rules let through. Decided on every resolved address; see the README’s “Outbound HTTP” section.',
    default: '',
    parse: list(egressEntry(false)),
  }),
  egressDeny: setting({
    env: 'OPSDECK_EGRESS_DENY',
    description: 'Outbound HTTP deny-list (CIDRs, addresses, host names, `*.domain`).',
    default: '',
    parse: list(egressEntry(false)),
  }),
  egressAllowInternal: setting({
    env: 'OPSDECK_EGRESS_ALLOW_INTERNAL',
    description:
      'Loopback and link-local addresses (and private ones when `OPSDECK_EGRESS_PRIVATE=deny`) outbound HTTP may reach anyway, as CIDRs or addresses, e.g. `127.0.0.1/32` for a lab. Metadata and unspecified addresses and Opsdeck’s own ports stay refused.',
    default: '',
    parse: list(egressEntry(true)),
  }),
  egressPrivate: setting({
    env: 'OPSDECK_EGRESS_PRIVATE',
    description:
      'Private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) for outbound HTTP: `allow` (device networks) or `deny` (then only `OPSDECK_EGRESS_ALLOW_INTERNAL` entries).',
    default: 'allow',
    parse: oneOf('allow', 'deny'),
  }),
  schedulerMisfireGraceSeconds: setting({
    env: 'OPSDECK_SCHEDULER_MISFIRE_GRACE_SECONDS',
    description:
      'A schedule tick processed later than this (no scheduler was running) is a misfire: its schedule’s `misfire` policy decides (skip, or one catch-up run).',
    default: '60',
    parse: int(1, 86_400),
  }),
  schedulerPollMs: setting({
    env: 'OPSDECK_SCHEDULER_POLL_MS',
    description: 'Longest sleep of the scheduler loop: how soon schedules changed on another node are seen.',
    default: '1000',
    parse: int(100, 60_000),
  }),
  eventsRetentionDays: setting({
    env: 'OPSDECK_EVENTS_RETENTION_DAYS',
    description: 'Domain events older than this are deleted once every event subscriber has consumed them (the stream and history reach back this far).',
    default: '7',
    parse: int(1, 3650),
  }),
  eventsPollMs: setting({
    env: 'OPSDECK_EVENTS_POLL_MS',
    description:
      'Longest wait of the event subscribers, live streams and webhook deliveries when no bus message wakes them (also relays events a dead writer left behind).',
    default: '2000',
    parse: int(50, 60_000),
  }),
  webhooksMaxAttempts: setting({
    env: 'OPSDECK_WEBHOOKS_MAX_ATTEMPTS',
    description: 'Attempts per webhook delivery before it is marked failed.',
    default: '8',
    parse: int(1, 50),
  }),
  webhooksRetryBaseMs: setting({
    env: 'OPSDECK_WEBHOOKS_RETRY_BASE_MS',
    description: 'Wait before the second attempt of a failed webhook delivery; each later wait doubles (capped at one hour).',
    default: '30000',
    parse: int(10, 3_600_000),
  }),
  webhooksTimeoutMs: setting({
    env: 'OPSDECK_WEBHOOKS_TIMEOUT_MS',
    description: 'Time limit of one webhook delivery attempt (connect to last byte).',
    default: '10000',
    parse: int(100, 120_000),
  }),
} as const;

type Settings = typeof SETTINGS;
type ValueOf<S> = S extends Setting<infer T> ? T : never;
type Raw = { -readonly [K in keyof Settings]: Settings[K]['default'] extends string ? ValueOf<Settings[K]> : ValueOf<Settings[K]> | undefined };

export type Config = Readonly<
  Omit<Raw, 'jobsQueue'> & {
    /** BullMQ prefix: `OPSDECK_JOBS_QUEUE`, else `OPSDECK_REDIS_PREFIX`. */
    jobsQueue: string;
    /** `single` (SQLite or PostgreSQL, in-process queue and bus) or `cluster` (Redis set). */
    mode: 'single' | 'cluster';
    databaseDialect: 'sqlite' | 'postgres';
    sqlitePath: string;
  }
>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export function maskSecret(value: string): string {
  return value.length === 0 ? '' : '********';
}

/** Masks the password of a URL, keeping the rest readable. */
export function maskUrl(value: string): string {
  try {
    const u = new URL(value);
    if (u.password) u.password = '********';
    return u.toString();
  } catch {
    return maskSecret(value);
  }
}

function display(key: keyof Settings, value: string): string {
  const s = SETTINGS[key] as Setting<unknown>;
  if (!s.secret) return value;
  return key === 'databaseUrl' || key === 'redisUrl' ? maskUrl(value) : maskSecret(value);
}

/**
 * Parses the environment into a frozen Config, reporting every bad variable at once.
 * Empty strings count as unset so `OPSDECK_X=` in a .env file falls back to the default.
 */
export function loadConfig(env: Record<string, string | undefined>, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(SETTINGS) as [keyof Settings, Setting<unknown>][]) {
    const given = env[s.env];
    const raw = given === undefined || given === '' ? s.default : given;
    if (raw === undefined) {
      out[key] = undefined;
      continue;
    }
    const parsed = s.parse(raw);
    if ('expected' in parsed) {
      problems.push(`${s.env}=${JSON.stringify(display(key, raw))} is invalid: expected ${parsed.expected}`);
    } else {
      out[key] = parsed.value;
    }
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith('OPSDECK_') && !Object.values(SETTINGS).some((s) => s.env === name) && !name.startsWith('OPSDECK_TEST_')) {
      problems.push(`${name} is not a known setting (see the README's configuration table)`);
    }
  }
  const origins = out.corsOrigins as string[] | undefined;
  // NOTE: `*` answers `Access-Control-Allow-Origin: *`, which browsers never combine with
  // credentials; mixing it with named origins would have to reflect every origin instead.
  if (origins?.includes('*') && origins.length > 1) {
    problems.push('OPSDECK_CORS_ORIGINS must be either * alone (any origin, never with credentials) or a list of origins, not both');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const raw = out as Raw;
  const dataDir = path.resolve(cwd, raw.dataDir);
  return Object.freeze({
    ...raw,
    dataDir,
    roles: Object.freeze([...new Set(raw.roles)]) as Role[],
    corsOrigins: Object.freeze(raw.corsOrigins) as string[],
    textfsmLibraryDirs: Object.freeze(raw.textfsmLibraryDirs.map((d) => path.resolve(cwd, d))) as string[],
    jobsQueue: raw.jobsQueue ?? raw.redisPrefix,
    mode: raw.redisUrl ? 'cluster' : 'single',
    databaseDialect: raw.databaseUrl ? 'postgres' : 'sqlite',
    sqlitePath: path.join(dataDir, 'opsdeck.db'),
  });
}

/** The effective configuration with secrets masked, for `opsdeck config`. */
export function describeConfig(config: Config): Record<string, string | number | boolean | string[] | null> {
  const out: Record<string, string | number | boolean | string[] | null> = {};
  for (const [key, s] of Object.entries(SETTINGS) as [keyof Settings, Setting<unknown>][]) {
    const value = config[key] as unknown;
    if (value === undefined) out[s.env] = null;
    else if (s.secret) out[s.env] = Array.isArray(value) ? value.map((v) => display(key, String(v))) : display(key, String(value));
    else out[s.env] = value as string | number | boolean | string[];
  }
  return out;
}

/** The README's configuration table, generated from SETTINGS. */
export function configTableMarkdown(): string {
  const rows = Object.values(SETTINGS).map(
    (s: Setting<unknown>) => `| \`${s.env}\` | ${s.default === undefined || s.default === '' ? '(unset)' : `\`${s.default}\``} | ${s.description} |`,
  );
  return ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}
