import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';
import { DIALECTS } from '../../../test/helpers/db.js';
import { startSmtp } from '../../../test/helpers/notification-peers.js';
import { useTestServer } from '../../../test/helpers/server.js';

describe.each(DIALECTS)("users' security notices by e-mail on %s", (dialect) => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  beforeAll(async () => {
    smtp = await startSmtp();
  });
  afterAll(async () => {
    await smtp.close();
  });
  const server = useTestServer(dialect, {
    resolve: async (host) => {
      if (host === 'mail.test') return ['127.0.0.1'];
      throw Object.assign(new Error(`unknown host ${host}`), { code: 'ENOTFOUND' });
    },
    env: { OPSDECK_EGRESS_ALLOW_INTERNAL: '127.0.0.1/32', OPSDECK_EVENTS_POLL_MS: '100', OPSDECK_LOCKOUT_THRESHOLD: '3' },
  });
  const inject = (method: 'POST' | 'PATCH', url: string, token: string | null, payload?: object) =>
    server().app.inject({ method, url: `/api/v1${url}`, ...(token ? { headers: bearer(token) } : {}), ...(payload ? { payload } : {}) });
  // The security mail channel: its own recipients are never the addressees of a user's notice.
  beforeAll(async () => {
    const admin = await adminToken(server());
    const ch = await inject('POST', '/notifications/channels', admin, {
      name: 'security-mail',
      type: 'email',
      settings: { host: 'mail.test', port: smtp.port, tls: 'none', from: 'security@example.com', to: ['noc@example.com'], username: 'alerts' },
      secrets: { password: 'smtp-pass-123' },
    });
    expect(ch.statusCode).toBe(201);
    const set = await inject('PATCH', '/settings/notifications', admin, { security_channel_id: ch.json<{ id: string }>().id });
    expect(set.statusCode).toBe(200);
  });
  const mailsTo = async (address: string, count: number) => {
    const until = Date.now() + 15_000;
    for (;;) {
      const got = smtp.mails.filter((m) => m.to.includes(address));
      if (got.length >= count) return got;
      if (Date.now() > until) throw new Error(`${address} got ${got.length} mails, not ${count}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  // Header lines fold at 78 characters.
  const subject = (data: string) => /^Subject: (.*)$/m.exec(data.replace(/\r?\n[ \t]+/g, ' '))?.[1] ?? '';

  it('mails a lockout to the locked user only, without the password tried', async () => {
    const u = await loginAs(server(), 'viewer');
    const wrong = `Wrong-${u.password}`;
    for (let i = 0; i < 3; i++) expect((await inject('POST', '/auth/login', null, { username: u.username, password: wrong })).statusCode).toBe(401);
    const [mail] = await mailsTo(`${u.username}@example.com`, 1);
    expect(mail!.to).toEqual([`${u.username}@example.com`]);
    expect(mail!.from).toBe('security@example.com');
    expect(subject(mail!.data)).toBe('[WARNING] Your Opsdeck account was locked after repeated failed sign-ins');
    // Quoted-printable: soft line breaks joined.
    expect(mail!.data.replace(/=\r?\n/g, '')).toContain('If this was not you, tell your Opsdeck administrator at once.');
    expect(mail!.data).not.toContain(wrong);
    expect(mail!.data).not.toContain(u.password);
    // Failed sign-ins below the threshold, and refusals while locked, are not mailed.
    expect((await inject('POST', '/auth/login', null, { username: u.username, password: u.password })).statusCode).toBe(401);
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.mails.filter((m) => m.to.includes(`${u.username}@example.com`))).toHaveLength(1);
  });

  it('mails 2FA being turned on and a recovery code being used, never the secret or the code', async () => {
    const u = await loginAs(server(), 'operator');
    const address = `${u.username}@example.com`;
    const enrol = await inject('POST', '/auth/2fa/enrol', u.token);
    const { secret } = enrol.json<{ secret: string }>();
    const code = await generate({ secret, epoch: Math.floor(Date.now() / 1000) - 30 });
    const confirm = await inject('POST', '/auth/2fa/confirm', u.token, { code });
    expect(confirm.statusCode).toBe(200);
    const recovery = confirm.json<{ recovery_codes: string[] }>().recovery_codes[0]!;
    await mailsTo(address, 1);
    expect((await inject('POST', '/auth/login', null, { username: u.username, password: u.password, totp: recovery })).statusCode).toBe(200);
    const mails = await mailsTo(address, 2);
    expect(mails.map((m) => subject(m.data)).sort()).toEqual([
      '[WARNING] A recovery code was used to sign in to your Opsdeck account',
      '[WARNING] Two-factor authentication was turned on for your Opsdeck account',
    ]);
    for (const m of mails) {
      expect(m.data).not.toContain(secret);
      expect(m.data).not.toContain(recovery);
      expect(m.data).not.toContain(u.password);
    }
    // The outbox row is a `security` notification without an alert.
    const admin = await adminToken(server());
    const list = await server().app.inject({ method: 'GET', url: '/api/v1/notifications/deliveries?status=delivered&limit=200', headers: bearer(admin) });
    const rows = list.json<{ items: { kind: string; alert_id: string | null }[] }>().items.filter((r) => r.kind === 'security');
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows.every((r) => r.alert_id === null)).toBe(true);
  });
});
