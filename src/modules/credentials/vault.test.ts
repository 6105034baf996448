import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { createTestServer, useTestServer, type TestServer } from '../../../test/helpers/server.js';
import { adminToken, bearer } from '../../../test/helpers/auth.js';
import { forms, rawStorage } from '../../../test/helpers/raw-storage.js';
import { sql } from 'kysely';
import { createEnvelope, createKeyRing } from '../../platform/crypto/index.js';
import { SYSTEM_ACTOR } from '../../platform/http/auth.js';
import { createCredentialsModule, CredentialRejectedError, CREDENTIAL_EXPIRED, ProfileExhaustedError, type ResolvedCredential } from './index.js';

const k1 = `k1:${randomBytes(32).toString('base64')}`;
const k2 = `k2:${randomBytes(32).toString('base64')}`;
const PASSWORDS = ['Rot-Pw-0001-aa', 'Rot-Pw-0002-bb', 'Rot-Pw-0003-cc', 'Rot-Pw-0004-dd', 'Rot-Pw-0005-ee'];
const SECRET = 'rotating-secret-value-42';
const HOOK_SECRET = 'webhook-signing-secret-77';
const PROFILE_PW = { current: 'Prof-Current-7h3', old: 'Prof-Old-2x9', vendor: 'Prof-Vendor-cisco' };

describe.each(DIALECTS)('vault rotation, expiry and profiles on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_MASTER_KEY: k1 } });
  const moduleWith = (ring: string[], clock?: () => number, s: TestServer = server()) => {
    const m = s.modules;
    return createCredentialsModule({
      db: m.database.db,
      keyRing: createKeyRing(ring),
      events: m.events,
      audit: m.identity.audit,
      stepUp: m.identity.stepUp,
      logger: m.logger,
      ...(clock ? { clock } : {}),
    });
  };
  /** No plaintext in the server's storage or log lines. */
  const expectNoPlaintext = async (s: TestServer, secrets: string[]) => {
    const raw = await rawStorage(s.db);
    const logs = s.logs.text();
    for (const secret of secrets) {
      for (const f of forms(secret)) {
        expect(raw.includes(f)).toBe(false);
        expect(logs.includes(f)).toBe(false);
      }
    }
  };
  let admin: Record<string, string>;

  beforeAll(async () => {
    admin = bearer(await adminToken(server()));
  });

  // Checked after every test ran, in whatever order.
  afterAll(() => expectNoPlaintext(server(), [...Object.values(PROFILE_PW), 'expiring-comm-1']));

  describe('master key rotation', () => {
    /**
     * Rotation counts every record in its database, so each test gets a database of its own
     * holding the PASSWORDS credentials and the SECRET secret, sealed under k1.
     */
    const withRotationServer = async (test: (s: TestServer, ids: string[]) => Promise<void>) => {
      const s = await createTestServer(dialect, { env: { OPSDECK_MASTER_KEY: k1, OPSDECK_EGRESS_ALLOW_INTERNAL: '127.0.0.1' } });
      try {
        const vault = s.modules.credentials;
        const ids: string[] = [];
        for (const [i, password] of PASSWORDS.entries()) {
          ids.push((await vault.service.create(SYSTEM_ACTOR, { name: `rot-${i}`, type: 'basic', username: `u${i}`, password })).id);
        }
        await vault.secrets.create(SYSTEM_ACTOR, { key: 'ROTATING', value: SECRET });
        // A webhook's signing secret is sealed under the same master keys (disabled: nothing is sent).
        await s.modules.eventsModule.webhooks.create(SYSTEM_ACTOR, {
          name: 'rot-hook',
          url: 'http://127.0.0.1:9/hook',
          secret: HOOK_SECRET,
          events: ['*'],
          enabled: false,
        });
        await test(s, ids);
        await expectNoPlaintext(s, [...PASSWORDS, SECRET, HOOK_SECRET]);
      } finally {
        await s.close();
      }
    };

    it('re-wraps every data key under the newest key, reports counts, and decrypts with the old key removed', () =>
      withRotationServer(async (s, ids) => {
        expect(await s.modules.credentials.keys.usage()).toEqual({ k1: PASSWORDS.length + 2 });
        const before = await rawStorage(s.db);
        const rotated = await moduleWith([k1, k2], undefined, s).keys.rotate({ batchSize: 2 });
        expect(rotated).toMatchObject({
          key_id: 'k2',
          credentials: { rewrapped: PASSWORDS.length, failed: 0 },
          secrets: { rewrapped: 1, failed: 0 },
          webhooks: { rewrapped: 1, failed: 0 },
          usage: { k2: PASSWORDS.length + 2 },
        });
        expect((await moduleWith([k1, k2], undefined, s).keys.rotate()).credentials.rewrapped).toBe(0);
        // Field ciphertexts are untouched: rotation never decrypted them.
        const after = await rawStorage(s.db);
        const sealedFields = (text: string) => [...text.matchAll(/v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}/g)].map((m) => m[0]);
        const fieldsBefore = sealedFields(before).filter((f) => f.split('.')[2]!.length !== 43);
        expect(fieldsBefore.length).toBeGreaterThanOrEqual(PASSWORDS.length);
        for (const f of fieldsBefore) expect(after).toContain(f);

        const onlyNew = moduleWith([k2], undefined, s);
        for (const [i, id] of ids.entries()) expect((await onlyNew.resolve(id, 'rotation check', null)).secrets).toEqual({ password: PASSWORDS[i] });
        expect(await onlyNew.resolveSecret('ROTATING', 'rotation check', null)).toBe(SECRET);
        // The webhook secret opens under the new key alone (it was left under k1 before).
        const hook = (
          await sql<{
            id: string;
            keyId: string;
            wrappedKey: string;
            secretSealed: string;
          }>`select id, key_id, wrapped_key, secret_sealed from webhooks`.execute(s.modules.database.db)
        ).rows[0]!;
        const opened = createEnvelope(createKeyRing([k2])).open({ kind: 'webhook', id: hook.id, type: 'hmac' }, hook, { secret: hook.secretSealed });
        expect(opened.secret).toBe(HOOK_SECRET);
        await expect(moduleWith([k1], undefined, s).resolve(ids[0]!, 'old key only', null)).rejects.toMatchObject({ code: 'MASTER_KEY_MISSING' });
      }));

    it('reports records it cannot re-wrap instead of stopping', () =>
      withRotationServer(async (s, ids) => {
        await moduleWith([k1, k2], undefined, s).keys.rotate();
        const k3 = `k3:${randomBytes(32).toString('base64')}`;
        // k2 is missing from this ring, so nothing can be unwrapped.
        const report = await moduleWith([k1, k3], undefined, s).keys.rotate();
        expect(report.credentials.failed).toBe(PASSWORDS.length);
        expect(report.credentials.failed_ids).toEqual(ids);
        expect(report.usage).toEqual({ k2: PASSWORDS.length + 2 });
      }));
  });

  describe('expiry', () => {
    it('announces a credential passing its expiry once, on the bus', async () => {
      const m = server().modules;
      const base = Date.parse('2030-01-01T00:00:00.000Z');
      let now = base;
      const vault = moduleWith([k2], () => now);
      const cred = await vault.service.create(SYSTEM_ACTOR, {
        name: 'expiring',
        type: 'snmp_v2c',
        community: 'expiring-comm-1',
        expires_at: new Date(base + 3600_000).toISOString(),
      });
      const received: { payload: { id: string; expiresAt: string } }[] = [];
      const unsubscribe = await m.bus.subscribe(`event:${CREDENTIAL_EXPIRED}`, (msg) => void received.push(msg as (typeof received)[number]));
      try {
        expect(await vault.expiry.check()).toBe(0);
        now = base + 3600_000 + 1;
        expect(await vault.expiry.check()).toBe(1);
        expect(await vault.expiry.check()).toBe(0);
        await expect.poll(() => received.filter((e) => e.payload.id === cred.id).length).toBe(1);
        expect(received.find((e) => e.payload.id === cred.id)?.payload).toEqual({
          id: cred.id,
          name: 'expiring',
          type: 'snmp_v2c',
          teamId: null,
          expiresAt: cred.expires_at,
        });
        // Moving the expiry re-arms the announcement.
        await vault.service.update(SYSTEM_ACTOR, cred.id, { expires_at: new Date(now + 1000).toISOString() });
        now += 2000;
        expect(await vault.expiry.check()).toBe(1);
        expect((await vault.service.get(SYSTEM_ACTOR, cred.id)).expired).toBe(true);
      } finally {
        await unsubscribe();
      }
    });
  });

  describe('credential profiles', () => {
    let profileId: string;
    const cred: Record<string, string> = {};
    const createProfile = (name: string, credentialIds: string[]) =>
      server().app.inject({ method: 'POST', url: '/api/v1/credential-profiles', headers: admin, payload: { name, credential_ids: credentialIds } });
    // The profile the tests use; each test tries its own device names, so none depends on another.
    beforeAll(async () => {
      const vault = server().modules.credentials;
      for (const [name, password] of Object.entries(PROFILE_PW)) {
        cred[name] = (await vault.service.create(SYSTEM_ACTOR, { name: `prof-${name}`, type: 'ssh', username: 'admin', password })).id;
      }
      const res = await createProfile('core-routers', [cred.current!, cred.old!, cred.vendor!]);
      expect(res.statusCode, res.body).toBe(201);
      profileId = res.json().id;
    });
    /** A device accepting one password; anything else is an authentication failure. */
    const device = (accepts: string, calls: string[]) => async (c: ResolvedCredential) => {
      calls.push(c.name);
      if (c.secrets.password !== accepts) throw new CredentialRejectedError();
      return `logged in as ${c.attributes.username}`;
    };

    it('creates a profile over HTTP and validates its entries', async () => {
      const res = await createProfile('edge-routers', [cred.vendor!, cred.current!]);
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().entries.map((e: { credential_name: string }) => e.credential_name)).toEqual(['prof-vendor', 'prof-current']);
      const missing = await createProfile('broken', [cred.current!, '0190a0a0-0000-7000-8000-0000000000ff']);
      expect(missing.statusCode).toBe(422);
      expect(missing.json().errors).toEqual([{ path: 'body.credential_ids.1', message: expect.stringContaining('does not exist') }]);
      expect((await createProfile('dupes', [cred.current!, cred.current!])).statusCode).toBe(400);
      const inUse = await server().app.inject({ method: 'DELETE', url: `/api/v1/credentials/${cred.old}`, headers: admin });
      expect(inUse.statusCode).toBe(409);
      expect(inUse.json().code).toBe('CREDENTIAL_IN_USE');
    });

    it('tries entries in order, remembers the one that worked per device and tries it first next time', async () => {
      const vault = server().modules.credentials;
      const calls: string[] = [];
      const first = await vault.tryInOrder(profileId, 'device:r1', device(PROFILE_PW.vendor, calls), { purpose: 'job:backup', jobRunId: null });
      expect(first).toMatchObject({ result: 'logged in as admin', credentialId: cred.vendor, rejected: ['prof-current', 'prof-old'] });
      expect(calls).toEqual(['prof-current', 'prof-old', 'prof-vendor']);
      calls.length = 0;
      await vault.tryInOrder(profileId, 'device:r1', device(PROFILE_PW.vendor, calls), { purpose: 'job:backup', jobRunId: null });
      expect(calls).toEqual(['prof-vendor']);
      calls.length = 0;
      // Another device still starts at the top.
      await vault.tryInOrder(profileId, 'device:r2', device(PROFILE_PW.current, calls), { purpose: 'job:backup', jobRunId: null });
      expect(calls).toEqual(['prof-current']);
      // The device's password changed: the remembered entry fails, the next one that works is remembered.
      calls.length = 0;
      await vault.tryInOrder(profileId, 'device:r1', device(PROFILE_PW.old, calls), { purpose: 'job:backup', jobRunId: null });
      expect(calls).toEqual(['prof-vendor', 'prof-current', 'prof-old']);
      calls.length = 0;
      await vault.tryInOrder(profileId, 'device:r1', device(PROFILE_PW.old, calls), { purpose: 'job:backup', jobRunId: null });
      expect(calls).toEqual(['prof-old']);
    });

    it('fails with a clear per-target error when every entry is rejected, and stops at once on other errors', async () => {
      const vault = server().modules.credentials;
      const calls: string[] = [];
      const err = await vault
        .tryInOrder(profileId, 'device:r3', device('nothing-matches', calls), { purpose: 'job:backup', jobRunId: null })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProfileExhaustedError);
      expect((err as Error).message).toBe(
        "device:r3: every credential of profile 'core-routers' was rejected ('prof-current': authentication failed; 'prof-old': authentication failed; 'prof-vendor': authentication failed)",
      );
      for (const pw of Object.values(PROFILE_PW)) expect((err as Error).message).not.toContain(pw);
      const unreachable = vault.tryInOrder(
        profileId,
        'device:r4',
        async (c) => {
          calls.push(`down:${c.name}`);
          throw new Error('connect ECONNREFUSED');
        },
        { purpose: 'job:backup', jobRunId: null },
      );
      await expect(unreachable).rejects.toThrow('ECONNREFUSED');
      expect(calls.filter((c) => c.startsWith('down:'))).toEqual(['down:prof-current']);
    });

    it('records every resolve of a profile entry in the access log', async () => {
      const log = async (id: string) =>
        (await server().app.inject({ method: 'GET', url: `/api/v1/credentials/${id}/access-log?limit=1000`, headers: admin })).json().items as {
          action: string;
          purpose: string;
        }[];
      const before = await Promise.all([cred.current!, cred.old!, cred.vendor!].map(log));
      await server().modules.credentials.tryInOrder(profileId, 'device:r5', device(PROFILE_PW.vendor, []), { purpose: 'job:backup', jobRunId: null });
      const after = await Promise.all([cred.current!, cred.old!, cred.vendor!].map(log));
      expect(after.map((entries, i) => entries.length - before[i]!.length)).toEqual([1, 1, 1]);
      for (const entries of after) expect(entries.every((e) => e.action === 'resolve' && e.purpose === 'job:backup')).toBe(true);
    });
  });
});
