import type { TestServer } from './server.js';
import { TEST_ADMIN_PASSWORD } from './server.js';

type Server = Pick<TestServer, 'app'>;

/** Signs in; returns the whole login response (throws with the body on failure). */
export async function login(
  server: Server,
  username: string,
  password: string,
  totp?: string,
): Promise<{ access_token: string; refresh_token: string; user: { id: string } }> {
  const res = await server.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password, ...(totp ? { totp } : {}) } });
  if (res.statusCode !== 200) throw new Error(`login as ${username} failed: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** An access token of the first-start `admin` (created with TEST_ADMIN_PASSWORD). */
export async function adminToken(server: Server): Promise<string> {
  return (await login(server, 'admin', TEST_ADMIN_PASSWORD)).access_token;
}

/** `{ authorization: 'Bearer …' }` for inject. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

let counter = 0;

/** Creates a user with the given roles (through the API, as admin) and signs in as them. */
export async function loginAs(
  server: Server,
  roles: string | string[],
  adminAccess?: string,
): Promise<{ token: string; userId: string; username: string; password: string }> {
  const admin = adminAccess ?? (await adminToken(server));
  counter += 1;
  const username = `${[roles].flat().join('-')}-${process.pid}-${counter}`;
  const password = `Zq8!-secret-${process.pid}-${counter}-long`;
  const res = await server.app.inject({
    method: 'POST',
    url: '/api/v1/users',
    headers: bearer(admin),
    payload: { username, email: `${username}@example.com`, password, roles: [roles].flat() },
  });
  if (res.statusCode !== 201) throw new Error(`creating ${username} failed: ${res.statusCode} ${res.body}`);
  const session = await login(server, username, password);
  return { token: session.access_token, userId: session.user.id, username, password };
}
