/**
 * Which target failures a retry can fix. A wrong password, a host name that does not exist, a
 * refused host key or parameters the device rejects fail the same way on every attempt: such a
 * target fails at once, with the reason, instead of being retried up to `max_attempts`. An
 * unreachable or slow device, a reset connection or a temporary DNS failure may pass later.
 */
export type FailureKind = 'auth' | 'host_key' | 'dns' | 'invalid' | 'policy' | 'unreachable' | 'timeout' | 'error';

export interface FailureClass {
  retryable: boolean;
  kind: FailureKind;
}

/** Thrown by executors for a failure no retry can fix. */
export class PermanentError extends Error {
  constructor(
    readonly kind: Exclude<FailureKind, 'unreachable' | 'timeout' | 'error'>,
    message: string,
  ) {
    super(message);
  }
}

const RETRYABLE_CODES: Record<string, FailureKind> = {
  ECONNREFUSED: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EHOSTDOWN: 'unreachable',
  ECONNRESET: 'unreachable',
  EPIPE: 'unreachable',
  ETIMEDOUT: 'timeout',
  ESOCKETTIMEDOUT: 'timeout',
  // A resolver that did not answer, not a name that does not exist.
  EAI_AGAIN: 'dns',
};

/** Classifies what a target threw (Node system errors, ssh2 errors, executors' own errors). */
export function classifyFailure(err: unknown): FailureClass {
  if (err instanceof PermanentError) return { retryable: false, kind: err.kind };
  const e = (err ?? {}) as { code?: unknown; level?: unknown; message?: unknown; name?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : String(err);
  // NXDOMAIN: the name does not exist (getaddrinfo ENOTFOUND), and will not on the next attempt.
  if (code === 'ENOTFOUND' || /\bENOTFOUND\b/.test(message)) return { retryable: false, kind: 'dns' };
  const retryable = RETRYABLE_CODES[code];
  if (retryable) return { retryable: true, kind: retryable };
  // ssh2 marks authentication failures with level 'client-authentication'; the credentials
  // module's profiles throw CredentialRejectedError per entry and CREDENTIAL_PROFILE_EXHAUSTED.
  if (
    e.level === 'client-authentication' ||
    e.name === 'CredentialRejectedError' ||
    code === 'CREDENTIAL_PROFILE_EXHAUSTED' ||
    /authentication methods failed|authentication failed|permission denied/i.test(message)
  ) {
    return { retryable: false, kind: 'auth' };
  }
  if (/host key/i.test(message) && /does not match|verification failed/i.test(message)) return { retryable: false, kind: 'host_key' };
  if (/timed? ?out|timeout|within \d+ ms/i.test(message)) return { retryable: true, kind: 'timeout' };
  return { retryable: true, kind: 'error' };
}

/** An HTTP answer's status: 401/403 are credentials, other 4xx (but 408, 425, 429) the request. */
export function classifyHttpStatus(status: number): FailureClass {
  if (status === 401 || status === 403) return { retryable: false, kind: 'auth' };
  if (status >= 400 && status < 500 && ![408, 425, 429].includes(status)) return { retryable: false, kind: 'invalid' };
  return { retryable: true, kind: 'error' };
}
