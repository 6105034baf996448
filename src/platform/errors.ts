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
