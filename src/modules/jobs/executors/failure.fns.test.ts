import { describe, expect, it } from 'vitest';
import { classifyFailure, classifyHttpStatus, PermanentError } from './failure.fns.js';

const sysErr = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('target failure classification', () => {
  it.each([
    ['an unknown host name (NXDOMAIN)', sysErr('ENOTFOUND', 'getaddrinfo ENOTFOUND nosuch.invalid'), { retryable: false, kind: 'dns' }],
    ['ENOTFOUND only in the message (wrapped)', new Error('egress refused: cannot resolve x (ENOTFOUND)'), { retryable: false, kind: 'dns' }],
    ['a resolver that did not answer', sysErr('EAI_AGAIN'), { retryable: true, kind: 'dns' }],
    [
      'an SSH authentication failure',
      Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' }),
      { retryable: false, kind: 'auth' },
    ],
    [
      'every credential of a profile rejected',
      Object.assign(new Error("r1: every credential of profile 'lab' was rejected"), { code: 'CREDENTIAL_PROFILE_EXHAUSTED' }),
      { retryable: false, kind: 'auth' },
    ],
    ['a pinned host key mismatch', new Error('host key SHA256:abc does not match the pinned key'), { retryable: false, kind: 'host_key' }],
    ['an executor-declared permanent failure', new PermanentError('invalid', 'the device rejected the parameters'), { retryable: false, kind: 'invalid' }],
    ['connection refused', sysErr('ECONNREFUSED'), { retryable: true, kind: 'unreachable' }],
    ['no route to host', sysErr('EHOSTUNREACH'), { retryable: true, kind: 'unreachable' }],
    ['a connect timeout', sysErr('ETIMEDOUT'), { retryable: true, kind: 'timeout' }],
    ['an SSH ready timeout', new Error('Timed out while waiting for handshake'), { retryable: true, kind: 'timeout' }],
    ['anything else', new Error('something odd'), { retryable: true, kind: 'error' }],
    ['a thrown string', 'boom', { retryable: true, kind: 'error' }],
  ])('%s', (_name, err, expected) => {
    expect(classifyFailure(err)).toEqual(expected);
  });

  it.each([
    [401, false, 'auth'],
    [403, false, 'auth'],
    [404, false, 'invalid'],
    [422, false, 'invalid'],
    [408, true, 'error'],
    [429, true, 'error'],
    [500, true, 'error'],
    [503, true, 'error'],
  ])('HTTP %i is retryable: %s', (status, retryable, kind) => {
    expect(classifyHttpStatus(status)).toEqual({ retryable, kind });
  });
});
