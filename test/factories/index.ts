/**
 * Test-data factories: each makes one object through the public HTTP API as the caller given
 * (so it passes the same validation, authorisation and audit as a client's), with a unique
 * name unless one is given, and fails loudly with the response when the API refuses.
 *
 *   const as = await adminCaller(server());
 *   const device = await makeDevice(as, { platform: 'IOS', primary_ip4: '127.0.0.1' });
 */
import { randomBytes } from 'node:crypto';
import { adminToken, bearer, loginAs } from '../helpers/auth.js';
import type { TestServer } from '../helpers/server.js';

type Server = Pick<TestServer, 'app'>;
type Fields = Record<string, unknown>;
/** What a factory acts as: a server and the headers of a principal on it. */
export interface Caller {
  server: Server;
  headers: Record<string, string>;
}
/** A created object as the API answered it. */
export type Made = { id: string; name: string } & Record<string, any>;

/** `prefix-<random>`: unique across test files, runs and both dialects sharing a database server. */
export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** The first-start admin as a caller. */
export async function adminCaller(server: Server): Promise<Caller> {
  return { server, headers: bearer(await adminToken(server)) };
}

/** POSTs `payload` to `/api/v1<url>` and answers the created object (throws unless 201). */
export async function made(as: Caller, url: string, payload: Fields): Promise<Made> {
  const res = await as.server.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: as.headers, payload });
  if (res.statusCode !== 201) throw new Error(`POST ${url} → ${res.statusCode} ${res.body}`);
  return res.json();
}

/** An inventory device (name only unless given more: platform, primary_ip4, credential_id, …). */
export function makeDevice(as: Caller, fields: Fields = {}): Promise<Made> {
  return made(as, '/devices', { name: uniqueName('device'), ...fields });
}

/** A vault credential: `basic` with a throwaway password unless the fields say otherwise. */
export function makeCredential(as: Caller, fields: Fields = {}): Promise<Made> {
  const defaults = fields.type ? {} : { type: 'basic', username: 'svc', password: `factory-${randomBytes(8).toString('hex')}` };
  return made(as, '/credentials', { name: uniqueName('credential'), ...defaults, ...fields });
}

/** A job template: a `noop` with no parameters unless given. */
export function makeJobTemplate(as: Caller, fields: Fields = {}): Promise<Made> {
  return made(as, '/jobs/templates', { name: uniqueName('template'), type: 'noop', params: {}, ...fields });
}

/** A user with `roles`, signed in: their caller, id, name and password. */
export async function makeUser(server: Server, roles: string | string[], adminAccess?: string) {
  const user = await loginAs(server, roles, adminAccess);
  return { ...user, caller: { server, headers: bearer(user.token) } satisfies Caller };
}
