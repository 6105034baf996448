/**
 * The one error type the application throws on purpose. Each carries a stable, domain-prefixed
 * `code` (e.g. `DEVICE_NOT_FOUND`) and an HTTP status; `platform/http/problem.ts` maps it to
 * RFC 9457 problem+json in one place. Anything that is not an AppError is a bug and answers 500.
 */
export interface FieldError {
  /** Where the problem is, e.g. `body.primary_ip4` or `query.limit`. */
  path: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly errors: FieldError[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export class NotFoundError extends AppError {
  constructor(code: string, message: string) {
    super(code, 404, message);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string, errors: FieldError[] = []) {
    super(code, 409, message, errors);
  }
}

/** Input that passed the schema but breaks a rule (422), e.g. a cyclic location. */
export class ValidationError extends AppError {
  constructor(code: string, message: string, errors: FieldError[] = []) {
    super(code, 422, message, errors);
  }
}

/** Input that is malformed (400): used where a schema cannot express the rule. */
export class BadRequestError extends AppError {
  constructor(code: string, message: string, errors: FieldError[] = []) {
    super(code, 400, message, errors);
  }
}

export class UnauthorizedError extends AppError {
  constructor(code = 'AUTH_REQUIRED', message = 'Authentication is required') {
    super(code, 401, message, [], { 'www-authenticate': 'Bearer' });
  }
}

export class ForbiddenError extends AppError {
  constructor(code = 'PERMISSION_DENIED', message = 'You do not have permission to do this') {
    super(code, 403, message);
  }
}

export class TooManyRequestsError extends AppError {
  constructor(code: string, message: string, retryAfterSeconds: number) {
    super(code, 429, message, [], { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
  }
}

/** A system Opsdeck talks to (a device, a git remote, an SMTP server) failed. */
export class UpstreamError extends AppError {
  constructor(code: string, message: string) {
    super(code, 502, message);
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(code: string, message: string) {
    super(code, 503, message);
  }
}

/** The database cannot be reached or is too busy: a retry later may pass (503 with Retry-After). */
export class DatabaseUnavailableError extends ServiceUnavailableError {
  constructor(message = 'The database is unavailable; retry shortly') {
    super('DATABASE_UNAVAILABLE', message);
    Object.assign(this.headers, { 'retry-after': '5' });
  }
}

// Node socket errors of a database connection, and PostgreSQL's "cannot serve you now" states:
// SQLSTATE class 08 (connection exception), 57P01-57P03 (shut down, starting up), 53300 (too
// many connections), 3D000 (the database is gone).
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '3D000',
]);
const CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection closed|the database system is (starting up|shutting down)/i;

/**
 * Whether an error says the database is unreachable or busy (PostgreSQL down, backend terminated,
 * pool exhausted past its timeout; SQLite locked past its busy timeout) rather than a bug.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08') || code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))) {
    return true;
  }
  if (err instanceof AggregateError && err.errors.some(isDatabaseUnavailable)) return true;
  return CONNECTION_MESSAGES.test(err.message);
}
