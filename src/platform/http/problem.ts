import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, DatabaseUnavailableError, isDatabaseUnavailable, type FieldError } from '../errors.js';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function codeToSlug(code: string): string {
  return code.toLowerCase().replace(/_/g, '-');
}

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string,
  errors: FieldError[] = [],
): FastifyReply {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({
      type: `https://opsdeck.dev/problems/${codeToSlug(code)}`,
      title: TITLES[status] ?? 'Error',
      status,
      detail,
      code,
      instance: request.url.split('?')[0],
      request_id: String(request.id),
      ...(errors.length > 0 ? { errors } : {}),
    });
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Turns Ajv's errors into `{ path: 'body.name', message }`, naming the field each time. */
export function validationErrors(context: string, errors: AjvError[]): FieldError[] {
  const prefix = context === 'querystring' ? 'query' : context;
  const out: FieldError[] = [];
  for (const e of errors) {
    let pointer = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      pointer = [pointer, String(e.params.missingProperty)].filter(Boolean).join('.');
      message = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      pointer = [pointer, String(e.params.additionalProperty)].filter(Boolean).join('.');
      message = 'is not an allowed field';
    }
    const path = pointer ? `${prefix}.${pointer}` : prefix;
    // Unions report each branch; one line per field and message is enough.
    if (!out.some((o) => o.path === path && o.message === message)) out.push({ path, message });
  }
  return out;
}

/**
 * The one place errors become responses: AppError → its status; Fastify's own → 4xx; the
 * database unreachable or busy → 503 DATABASE_UNAVAILABLE with Retry-After; else 500.
 */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((raw: FastifyError | AppError | Error, request, reply) => {
    const error = !(raw instanceof AppError) && isDatabaseUnavailable(raw) ? new DatabaseUnavailableError() : raw;
    if (error instanceof AppError) {
      for (const [k, v] of Object.entries(error.headers)) void reply.header(k, v);
      // OVERLOADED is counted (opsdeck_http_refused_total), not logged: a log line per refusal would add to the overload.
      if (error.status >= 500 && error.code !== 'OVERLOADED') request.log.warn({ code: error.code, ...(error !== raw ? { err: raw } : {}) }, error.message);
      return sendProblem(request, reply, error.status, error.code, error.message, error.errors);
    }
    const fe = error as FastifyError & { validation?: AjvError[]; validationContext?: string };
    if (fe.validation) {
      return sendProblem(request, reply, 400, 'VALIDATION_FAILED', 'The request is invalid', validationErrors(fe.validationContext ?? 'body', fe.validation));
    }
    const status = fe.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'PAYLOAD_TOO_LARGE' : (fe.code ?? 'BAD_REQUEST').replace(/^FST_ERR_/, '');
      const detail =
        fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError
          ? 'The body is not valid JSON'
          : fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
            ? 'The request body is larger than the server accepts'
            : fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
              ? 'Unsupported Content-Type; send application/json'
              : error.message;
      return sendProblem(request, reply, status, code === 'CTP_INVALID_JSON_BODY' ? 'MALFORMED_JSON' : code, detail);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(request, reply, 500, 'INTERNAL', 'An internal error occurred; it has been logged');
  });

  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, 404, 'ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`));
}
