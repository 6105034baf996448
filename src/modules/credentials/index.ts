import type { RoutePlugin } from '../../app.js';
import type { Db } from '../../platform/db/database.js';
import type { DomainEvents } from '../../platform/events/domain-events.js';
import { createEnvelope, type KeyRing } from '../../platform/crypto/index.js';
import type { Logger } from '../../platform/observability/logger.js';
import type { Actor } from '../../platform/http/auth.js';
import { createCredentialsService } from './credentials.service.js';
import { credentialsRoutes } from './credentials.routes.js';
import { createSecretsService } from './secrets.service.js';
import { secretsRoutes } from './secrets.routes.js';
import { createProfilesService } from './profiles.service.js';
import { profilesRoutes } from './profiles.routes.js';
import { createExpiryWatch } from './expiry.js';
import { keyUsage, rotateMasterKey } from './keys.js';
import { toExecutorCredential, type ExecutorCredential } from './executor-credential.fns.js';
import type { AuditRecorder, StepUp } from './credentials.ports.js';
import { createCredentialsRepository } from './credentials.repository.js';
import { inTeamScope, teamScope } from '../../platform/db/team-scope.js';
import { isUuid } from '../../platform/ids.js';

export type { AuditEntry, AuditRecorder, ResolvedCredential, StepUp } from './credentials.ports.js';
export type { ExecutorCredential } from './executor-credential.fns.js';
export type { RotationReport } from './keys.js';
export type { HostKeyCheck } from './credential-probe.js';
export { CREDENTIAL_EXPIRED, type CredentialExpiredPayload } from './expiry.js';
export { CredentialRejectedError, isAuthFailure, ProfileExhaustedError, type TryResult } from './profiles.service.js';
export { CREDENTIAL_TYPES, type CredentialType } from './credential-types.fns.js';

export const CREDENTIALS_PERMISSIONS = [
  'credentials:read',
  'credentials:write',
  'credentials:use',
  'credentials:reveal',
  'secrets:read',
  'secrets:write',
] as const;

import type { HostKeyCheck } from './credential-probe.js';

export interface CredentialsDeps {
  db: Db;
  keyRing: KeyRing;
  events: Pick<DomainEvents, 'record' | 'relay'>;
  /** identity.audit */
  audit: AuditRecorder;
  /** identity.stepUp */
  stepUp: StepUp;
  logger: Logger;
  clock?: () => number;
  /** SSH host key pins (jobs' trust-on-first-use store), for `POST /credentials/{id}/test`. */
  hostKeyCheck?: HostKeyCheck;
}

/**
 * The credential vault: credentials, secrets and credential profiles, sealed with envelope
 * encryption under the key ring. Plaintext leaves only through `resolve` / `resolveSecret`
 * (executors), `tryInOrder` (profiles, via resolve) and the audited reveal route.
 */
export function createCredentialsModule(deps: CredentialsDeps) {
  const envelope = createEnvelope(deps.keyRing);
  const service = createCredentialsService({ ...deps, envelope });
  const secrets = createSecretsService({ ...deps, envelope });
  const profiles = createProfilesService({
    db: deps.db,
    audit: deps.audit,
    credentials: service,
    logger: deps.logger,
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
  const expiry = createExpiryWatch(deps);
  const teamsOf = (ids: readonly string[]) => createCredentialsRepository(deps.db).teamsOf(ids.filter(isUuid).map((id) => id.toLowerCase()));
  const plugins: RoutePlugin[] = [
    { prefix: '/api/v1', plugin: credentialsRoutes(service) },
    { prefix: '/api/v1', plugin: profilesRoutes(profiles) },
    { prefix: '/api/v1', plugin: secretsRoutes(secrets) },
  ];
  return {
    service,
    secrets,
    profiles,
    plugins,
    permissions: CREDENTIALS_PERMISSIONS,
    /** The only way executors get a credential's plaintext; recorded in the access log and the audit log. */
    resolve: (credentialId: string, purpose: string, jobRunId: string | null, actor?: Actor) => service.resolve(credentialId, purpose, jobRunId, actor),
    /** A plain secret's value for a job or workflow; recorded like `resolve`. */
    resolveSecret: (key: string, purpose: string, jobRunId: string | null, actor?: Actor) => secrets.resolve(key, purpose, jobRunId, actor),
    tryInOrder: profiles.tryInOrder,
    /** Team-scoped resources by audit resource type: the team of each id (identity's audit list hides other teams'). */
    teamScoped: { credential: teamsOf, credential_profile: teamsOf },
    /**
     * Which of `ids` name a credential or profile outside the actor's teams: other modules'
     * views redact such references (docs/architecture.md "Team scoping").
     */
    hiddenRefs: async (actor: Actor, ids: readonly (string | null | undefined)[]): Promise<Set<string>> => {
      const wanted = ids.filter((id): id is string => typeof id === 'string' && isUuid(id)).map((id) => id.toLowerCase());
      const scope = teamScope(actor);
      if (scope === 'all' || wanted.length === 0) return new Set();
      const teams = await teamsOf(wanted);
      return new Set([...teams].filter(([, team]) => !inTeamScope(scope, team)).map(([id]) => id));
    },
    /** The jobs engine's `CredentialResolver` (modules/jobs/credentials.ts). */
    resolver: {
      /** Decrypted as the run's initiating principal (their team scope and `credentials:use`; the audit names them). */
      resolve: async (credentialId: string, purpose: string, runId: string, actor?: Actor): Promise<ExecutorCredential> =>
        toExecutorCredential(await service.resolve(credentialId, purpose, runId, actor)),
      /** Given an actor, only what is in their team scope exists (inventory writes naming a credential). */
      exists: (credentialId: string, db?: Db, actor?: Actor) => service.exists(credentialId, db, actor),
      profileExists: (profileId: string, db?: Db, actor?: Actor) => profiles.exists(profileId, db, actor),
      /** Whether the actor may use this credential or credential profile (see modules/jobs/credentials.ts `canUse`). */
      canUse: async (actor: Actor, id: string) => (await service.usableBy(actor, id)) || (await profiles.usableBy(actor, id)),
      teamsOf,
      /** A profile's credentials in order against one device, as the executors' shape (see `tryInOrder`). */
      tryProfile: async <T>(
        profileId: string,
        deviceKey: string,
        attempt: (credential: ExecutorCredential) => Promise<T>,
        context: { purpose: string; runId: string; actor?: Actor },
      ) => {
        const r = await profiles.tryInOrder(profileId, deviceKey, (c) => attempt(toExecutorCredential(c)), {
          purpose: context.purpose,
          jobRunId: context.runId,
          ...(context.actor ? { actor: context.actor } : {}),
        });
        return { result: r.result, credentialId: r.credentialId };
      },
    },
    /** Announces expired credentials (`credential.expired`); the scheduler role starts it. */
    expiry,
    keys: {
      rotate: (options?: { batchSize?: number }) => rotateMasterKey({ db: deps.db, envelope, audit: deps.audit }, options),
      usage: () => keyUsage(deps.db),
      ring: deps.keyRing,
    },
  };
}

export type CredentialsModule = ReturnType<typeof createCredentialsModule>;
export { runKeysCommand, KEYS_HELP } from './keys.cli.js';
