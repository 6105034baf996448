import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from './errors.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('database unavailability', () => {
  it.each([
    ['connection refused', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    [
      'both addresses refused (AggregateError)',
      new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED'), withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')], ''),
    ],
    ['a backend terminated mid-query', new Error('Connection terminated unexpectedly')],
    ['the pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['pg_terminate_backend (57P01)', withCode('terminating connection due to administrator command', '57P01')],
    ['the server starting up (57P03)', withCode('the database system is starting up', '57P03')],
    ['too many connections (53300)', withCode('sorry, too many clients already', '53300')],
    ['a connection exception (08006)', withCode('connection failure', '08006')],
    ['the database dropped (3D000)', withCode('database "x" does not exist', '3D000')],
    ['SQLite busy past its timeout', withCode('database is locked', 'SQLITE_BUSY')],
    ['SQLite busy snapshot', withCode('database is locked', 'SQLITE_BUSY_SNAPSHOT')],
  ])('%s is unavailability (503)', (_name, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('duplicate key value violates unique constraint', '23505')],
    ['a syntax error (a bug)', withCode('syntax error at or near "selct"', '42601')],
    ['a SQLite constraint failure', withCode('UNIQUE constraint failed: users.name', 'SQLITE_CONSTRAINT_UNIQUE')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['not an Error', 'ECONNREFUSED'],
  ])('%s is not (500)', (_name, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
  });
});
