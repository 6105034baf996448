import net from 'node:net';
import type { AuditService } from '../identity/index.js';
import type { Db } from '../../platform/db/database.js';
import type { EgressPolicy } from '../../platform/egress/index.js';
import { ConflictError, ValidationError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { nowIso } from '../../platform/ids.js';
import { MASK } from '../../platform/secret-scrubber.js';
import { describeChange, resolveSection, validateChange, type Explained } from './settings.fns.js';
import { createSettingsRepository } from './settings.repository.js';
import { SECTION_NAMES, SECTIONS, type SectionName, type SectionValues } from './settings.sections.js';
import type { SettingsStore } from './settings.store.js';

export interface SettingsServiceDeps {
  db: Db;
  store: SettingsStore;
  audit: Pick<AuditService, 'record'>;
  stepUp: { require(actor: Actor, code: string | undefined | null): Promise<void> };
  /** The outbound policy the egress values would make (POST /settings/egress/test). */
  egressFor(values: SectionValues<'egress'>): EgressPolicy;
  smtpTimeoutMs?: number;
}

/** Runtime settings: read, change (audited, versioned, applied on every node), reset and test. */
export function createSettingsService(deps: SettingsServiceDeps) {
  function view(name: SectionName, explain: boolean) {
    const snap = deps.store.snapshot(name);
    const keys = SECTIONS[name].keys as Record<string, { secret?: boolean }>;
    const values: Record<string, unknown> = {};
    const secrets: Record<string, { set: boolean }> = {};
    const explained: Record<string, Explained> = {};
    for (const [k, e] of Object.entries(snap.explained)) {
      if (keys[k]?.secret) secrets[k] = { set: e.source === 'database' && e.value !== '' };
      else values[k] = e.value;
      explained[k] = keys[k]?.secret ? { ...e, value: e.value === '' ? '' : MASK } : e;
    }
    return {
      section: name,
      version: snap.version,
      updated_at: snap.updatedAt,
      updated_by: snap.updatedBy,
      values,
      secrets,
      ...(explain ? { explain: explained } : {}),
    };
  }

  /** Applies a change to the stored row in one transaction with its audit record; the new snapshot is live on every node after. */
  async function write(actor: Actor, name: SectionName, change: Record<string, unknown>, expected: number | undefined, action: string) {
    const section = SECTIONS[name];
    const errors = validateChange(section, change);
    if (errors.length > 0) throw new ValidationError('SETTINGS_INVALID', 'The settings are invalid', errors);
    await deps.db.transaction().execute(async (trx) => {
      const repo = createSettingsRepository(trx);
      const row = await repo.get(name);
      const version = row?.version ?? 0;
      if (expected !== undefined && expected !== version) {
        throw new ConflictError('SETTINGS_VERSION_CONFLICT', `The ${name} settings changed since version ${expected} (now ${version}); read them again`);
      }
      const raw = { ...(row?.value ?? {}) };
      const before = resolveSection(section, deps.store.open(name, raw), deps.store.config);
      for (const [k, v] of Object.entries(change)) {
        if (v === null) delete raw[k];
        else raw[k] = (section.keys as Record<string, { secret?: boolean }>)[k]?.secret ? deps.store.seal(name, k, v as string) : v;
      }
      const after = resolveSection(section, deps.store.open(name, raw), deps.store.config);
      if (!(await repo.write(name, version, raw, nowIso(), actor.name.slice(0, 200)))) {
        throw new ConflictError('SETTINGS_VERSION_CONFLICT', `The ${name} settings were changed by someone else at the same time; read them again`);
      }
      await deps.audit.record(trx, {
        actor,
        action,
        resourceType: 'setting_section',
        resourceId: name,
        outcome: 'success',
        changes: { version: version + 1, diff: describeChange(section, before, after) },
      });
    });
    await deps.store.changed(name);
    return view(name, false);
  }

  async function guard(actor: Actor, name: SectionName, stepUpCode: string | undefined): Promise<void> {
    requirePermission(actor, 'settings:write');
    if ((SECTIONS[name] as { stepUp?: boolean }).stepUp) await deps.stepUp.require(actor, stepUpCode);
  }

  return {
    list(actor: Actor) {
      requirePermission(actor, 'settings:read');
      return SECTION_NAMES.map((name) => {
        const s = deps.store.snapshot(name);
        return { section: name, description: SECTIONS[name].description, version: s.version, updated_at: s.updatedAt };
      });
    },
    get(actor: Actor, name: SectionName, explain = false) {
      requirePermission(actor, 'settings:read');
      return view(name, explain);
    },
    async update(actor: Actor, name: SectionName, body: Record<string, unknown>, opts: { ifMatch?: number | undefined; stepUpCode?: string | undefined } = {}) {
      await guard(actor, name, opts.stepUpCode);
      const { version, ...change } = body;
      return write(actor, name, change, (version as number | undefined) ?? opts.ifMatch, 'settings.updated');
    },
    async reset(actor: Actor, name: SectionName, key: string, opts: { ifMatch?: number | undefined; stepUpCode?: string | undefined } = {}) {
      await guard(actor, name, opts.stepUpCode);
      return write(actor, name, { [key]: null }, opts.ifMatch, 'settings.reset');
    },
    /** Checks a proposed outbound policy against a URL without saving it. */
    async testEgress(actor: Actor, body: { url: string; allow?: string[]; deny?: string[]; allow_internal?: string[] }) {
      requirePermission(actor, 'settings:write');
      const { url, ...proposed } = body;
      const errors = validateChange(SECTIONS.egress, proposed);
      if (errors.length > 0) throw new ValidationError('SETTINGS_INVALID', 'The settings are invalid', errors);
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        throw new ValidationError('SETTINGS_INVALID', 'The URL is invalid', [{ path: 'body.url', message: 'is not a URL' }]);
      }
      const verdict = await deps.egressFor({ ...deps.store.current('egress'), ...proposed }).check(target);
      return verdict.ok
        ? { ok: true, message: `${target.hostname} may be reached (${verdict.addresses.map((a) => a.address).join(', ')})`, latency_ms: null }
        : { ok: false, message: verdict.reason.slice(0, 500), latency_ms: null };
    },
    /** Opens the proposed SMTP server and reads its greeting, without saving anything. */
    async testNotifications(actor: Actor, body: Record<string, unknown>) {
      requirePermission(actor, 'settings:write');
      const { version: _v, ...proposed } = body;
      const errors = validateChange(SECTIONS.notifications, proposed);
      if (errors.length > 0) throw new ValidationError('SETTINGS_INVALID', 'The settings are invalid', errors);
      const s = {
        ...deps.store.current('notifications'),
        ...Object.fromEntries(Object.entries(proposed).filter(([, v]) => v !== null)),
      } as SectionValues<'notifications'>;
      if (!s.smtp_host) throw new ValidationError('SETTINGS_INVALID', 'No SMTP server to test', [{ path: 'body.smtp_host', message: 'is empty' }]);
      // The SMTP server is an outbound target like any other: the egress policy in force checks the
      // host (names through its resolver) and the connection goes to the address it approved.
      let target: URL;
      try {
        target = new URL(`http://${s.smtp_host.includes(':') && !s.smtp_host.startsWith('[') ? `[${s.smtp_host}]` : s.smtp_host}:${s.smtp_port}`);
      } catch {
        throw new ValidationError('SETTINGS_INVALID', 'The SMTP server is not a host name or address', [
          { path: 'body.smtp_host', message: 'is not a host name or address' },
        ]);
      }
      const verdict = await deps.egressFor(deps.store.current('egress')).check(target);
      if (!verdict.ok) return { ok: false, message: `${s.smtp_host}: ${verdict.reason}`.slice(0, 500), latency_ms: null };
      return smtpGreeting(s.smtp_host, verdict.addresses[0]!.address, s.smtp_port, deps.smtpTimeoutMs ?? 5000);
    },
  };
}
export type SettingsService = ReturnType<typeof createSettingsService>;

/** Connects and waits for the `220` greeting: the server is there and speaks SMTP. */
export function smtpGreeting(
  host: string,
  address: string,
  port: number,
  timeoutMs: number,
): Promise<{ ok: boolean; message: string; latency_ms: number | null }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    let buffered = '';
    const done = (ok: boolean, message: string) => {
      socket.destroy();
      resolve({ ok, message: message.slice(0, 500), latency_ms: ok ? Math.round((performance.now() - started) * 1000) / 1000 : null });
    };
    socket.setTimeout(timeoutMs, () => done(false, `no greeting from ${host}:${port} within ${timeoutMs} ms`));
    socket.on('error', (err) => done(false, `${host}:${port}: ${err.message}`));
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      if (!buffered.includes('\n')) return;
      const line = buffered.split(/\r?\n/)[0]!;
      if (/^220[ -]/.test(line)) {
        socket.write('QUIT\r\n');
        done(true, `${host}:${port} answered: ${line.slice(0, 200)}`);
      } else done(false, `${host}:${port} is not an SMTP server ready for mail: ${line.slice(0, 200)}`);
    });
  });
}
