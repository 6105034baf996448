import type { Db } from '../../platform/db/database.js';
import type { Cache } from '../../platform/cache/index.js';
import type { EgressPolicy } from '../../platform/egress/index.js';
import { AppError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { nowIso } from '../../platform/ids.js';
import type { AuditRecorder, ResolvedCredential } from '../credentials/index.js';
import { createIntegrationsRepository, type ConnectionRow } from './integrations.repository.js';
import type { Connection, ConnectionTest, PutConnectionBody, TestConnectionBody } from './integrations.schemas.js';
import { createSotClient, type SotClient, type System } from './sot-client.js';

export interface IntegrationsPorts {
  /** Whether `actor` may see the credential (the vault's team scope). */
  credentialVisible(actor: Actor, id: string): Promise<boolean>;
  /** The credential's plaintext, as `actor` (their `credentials:use` and team scope; audited by the vault). */
  resolveCredential(id: string, purpose: string, runId: string | null, actor: Actor): Promise<ResolvedCredential>;
}

export interface EnvConnection {
  url: string;
  token: string;
}

export interface ConnectionsDeps {
  db: Db;
  egress: EgressPolicy;
  cache: Pick<Cache, 'wrap' | 'invalidateTag'>;
  audit: AuditRecorder;
  ports: IntegrationsPorts;
  /** OPSDECK_NAUTOBOT_URL/_TOKEN, OPSDECK_NETBOX_URL/_TOKEN: used only while no connection is saved. */
  env: Partial<Record<System, EnvConnection>>;
  /** Tests shorten the client's back-off. */
  clientDefaults?: { backoffMs?: number; retries?: number };
}

const DEFAULT_TIMEOUT_MS = 30_000;
const REFERENCE_TTL_MS = 5 * 60_000;

interface Settings {
  url: string;
  credentialId: string | null;
  timeoutMs: number;
  verifyTls: boolean;
  caCert: string | null;
}

/**
 * Connections to Nautobot and NetBox: one per system, saved in the database (token in the
 * vault, by credential reference) over the environment fallback, and tested before saving.
 * `client(actor, system)` is the only place a token is resolved.
 */
export function createConnectionsService(deps: ConnectionsDeps) {
  const repo = createIntegrationsRepository(deps.db);

  async function tokenOf(actor: Actor, system: System, s: Settings, runId: string | null): Promise<string> {
    if (!s.credentialId) {
      const env = deps.env[system];
      if (!env) throw new NotFoundError('INTEGRATION_NOT_CONFIGURED', `No ${system} connection is configured`);
      return env.token;
    }
    const c = await deps.ports.resolveCredential(s.credentialId, `${system} API`, runId, actor);
    const token = c.secrets.token;
    if (c.type !== 'api_token' || !token) {
      throw new ValidationError('INTEGRATION_CREDENTIAL_TYPE', `A ${c.type} credential holds no API token; use an api_token credential`, [
        { path: 'body.credential_id', message: 'must be an api_token credential' },
      ]);
    }
    return token;
  }

  async function settingsOf(system: System): Promise<(Settings & { row?: ConnectionRow }) | null> {
    const row = await repo.connection(system);
    if (row) return { url: row.url, credentialId: row.credentialId, timeoutMs: row.timeoutMs, verifyTls: row.verifyTls, caCert: row.caCert, row };
    const env = deps.env[system];
    return env ? { url: env.url, credentialId: null, timeoutMs: DEFAULT_TIMEOUT_MS, verifyTls: true, caCert: null } : null;
  }

  async function clientFor(actor: Actor, system: System, s: Settings, runId: string | null, signal?: AbortSignal): Promise<SotClient> {
    const token = await tokenOf(actor, system, s, runId);
    return createSotClient({
      system,
      baseUrl: s.url,
      token,
      timeoutMs: s.timeoutMs,
      verifyTls: s.verifyTls,
      caCert: s.caCert,
      egress: deps.egress,
      cache: deps.cache,
      cacheTtlMs: REFERENCE_TTL_MS,
      ...deps.clientDefaults,
      ...(signal ? { signal } : {}),
    });
  }

  /** Reachable, token accepted, API version: `/api/status/` then one device read (the token must read the inventory). */
  async function probe(client: SotClient): Promise<ConnectionTest> {
    let version: string | null = null;
    try {
      const status = await client.get<Record<string, unknown>>('/api/status/');
      const v = status[`${client.system}-version`];
      version = typeof v === 'string' ? v.slice(0, 50) : null;
      await client.get('/api/dcim/devices/', { limit: 1 });
      return { ok: true, reachable: true, token_valid: true, api_version: version, detail: null };
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      const refused = err.code === 'INTEGRATION_AUTH_FAILED';
      return {
        ok: false,
        reachable: refused || err.code === 'INTEGRATION_REJECTED' || err.code === 'INTEGRATION_OBJECT_NOT_FOUND',
        token_valid: false,
        api_version: version,
        detail: err.message.slice(0, 1000),
      };
    }
  }

  async function checkCredential(actor: Actor, id: string | undefined): Promise<void> {
    if (id && !(await deps.ports.credentialVisible(actor, id))) {
      throw new ValidationError('INTEGRATION_INVALID', 'The connection names no credential you can use', [
        { path: 'body.credential_id', message: 'no such credential' },
      ]);
    }
  }

  const view = (system: System, s: Settings & { row?: ConnectionRow }): Connection => ({
    system,
    url: s.url,
    credential_id: s.credentialId,
    timeout_ms: s.timeoutMs,
    verify_tls: s.verifyTls,
    ca_cert_set: s.caCert !== null,
    api_version: s.row?.apiVersion ?? null,
    source: s.row ? 'database' : 'environment',
    updated_at: s.row?.updatedAt ?? null,
  });

  return {
    async get(actor: Actor, system: System): Promise<Connection> {
      requirePermission(actor, 'integrations:read');
      const s = await settingsOf(system);
      if (!s) throw new NotFoundError('INTEGRATION_NOT_CONFIGURED', `No ${system} connection is configured`);
      return view(system, s);
    },

    /** Tests the given settings (over the saved ones) without saving anything. */
    async test(actor: Actor, system: System, body: TestConnectionBody): Promise<ConnectionTest> {
      requirePermission(actor, 'integrations:write');
      await checkCredential(actor, body.credential_id);
      const saved = await settingsOf(system);
      if (!saved && !body.url) {
        throw new ValidationError('INTEGRATION_INVALID', `No ${system} connection is configured; give url and credential_id`, [
          { path: 'body.url', message: 'required when nothing is saved' },
        ]);
      }
      const s: Settings = {
        url: body.url ?? saved!.url,
        credentialId: body.credential_id ?? saved?.credentialId ?? null,
        timeoutMs: body.timeout_ms ?? saved?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        verifyTls: body.verify_tls ?? saved?.verifyTls ?? true,
        caCert: body.ca_cert !== undefined ? body.ca_cert : (saved?.caCert ?? null),
      };
      return probe(await clientFor(actor, system, s, null));
    },

    /** Saves a connection after testing it: a connection that does not answer with a valid token is refused (422, the test's detail). */
    async put(actor: Actor, system: System, body: PutConnectionBody): Promise<Connection> {
      requirePermission(actor, 'integrations:write');
      await checkCredential(actor, body.credential_id);
      const s: Settings = {
        url: body.url,
        credentialId: body.credential_id.toLowerCase(),
        timeoutMs: body.timeout_ms ?? DEFAULT_TIMEOUT_MS,
        verifyTls: body.verify_tls ?? true,
        caCert: body.ca_cert ?? null,
      };
      const result = await probe(await clientFor(actor, system, s, null));
      if (!result.ok) {
        throw new ValidationError('INTEGRATION_TEST_FAILED', `The ${system} connection failed its test: ${result.detail ?? 'no detail'}`, [
          { path: 'body.url', message: result.detail ?? 'test failed' },
        ]);
      }
      const at = nowIso();
      const existing = await repo.connection(system);
      const row: ConnectionRow = { system, ...s, apiVersion: result.api_version, updatedBy: actor.id, createdAt: existing?.createdAt ?? at, updatedAt: at };
      await deps.db.transaction().execute(async (trx) => {
        await createIntegrationsRepository(trx).saveConnection(row);
        await deps.audit.record(trx, {
          actor,
          action: existing ? 'integration_connection.updated' : 'integration_connection.created',
          resourceType: 'integration_connection',
          resourceId: system,
          outcome: 'success',
          changes: { url: s.url, credential_id: s.credentialId, timeout_ms: s.timeoutMs, verify_tls: s.verifyTls, ca_cert: s.caCert ? 'set' : null },
        });
      });
      return view(system, { ...s, row });
    },

    async remove(actor: Actor, system: System): Promise<void> {
      requirePermission(actor, 'integrations:write');
      await deps.db.transaction().execute(async (trx) => {
        if (!(await createIntegrationsRepository(trx).deleteConnection(system))) {
          throw new NotFoundError('INTEGRATION_NOT_CONFIGURED', `No ${system} connection is saved`);
        }
        await deps.audit.record(trx, {
          actor,
          action: 'integration_connection.deleted',
          resourceType: 'integration_connection',
          resourceId: system,
          outcome: 'success',
        });
      });
    },

    /** A client for the saved (else environment) connection, its token resolved as `actor`. */
    async client(actor: Actor, system: System, runId: string | null = null, signal?: AbortSignal): Promise<SotClient> {
      const s = await settingsOf(system);
      if (!s) throw new NotFoundError('INTEGRATION_NOT_CONFIGURED', `No ${system} connection is configured`);
      return clientFor(actor, system, s, runId, signal);
    },
  };
}

export type ConnectionsService = ReturnType<typeof createConnectionsService>;
