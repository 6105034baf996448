import type { Actor } from '../../platform/http/auth.js';
import type { CredentialResolver, ResolvedCredential } from './credentials.js';
import type { Executor } from './executors/executor.js';
import { PermanentError } from './executors/failure.fns.js';
import { deviceKey } from './run-state.fns.js';
import type { Run, TargetRow } from './runs.repository.js';

/** A target whose credential the run's initiator may not use (outside their teams, or no `credentials:use`). */
export const CREDENTIAL_FORBIDDEN = 'CREDENTIAL_FORBIDDEN';

/**
 * Per-target credentials for one run: the target's plan (targets.ts#credentialPlan) decides;
 * a profile is tried in order through the vault's `tryProfile` (the entry that worked last for
 * the device first); a plain credential is decrypted once per run. Rows stored before the plan
 * existed (plain hosts) use the run's credential. Every credential is first checked for the
 * run's initiating principal as they are now (`canUse`): one they may not use fails the target
 * with CREDENTIAL_FORBIDDEN and is never decrypted; the vault decrypts as that principal (and
 * audits the use as theirs). Every secret reaches the scrubber before the executor sees it.
 */
export function createTargetCredentials(o: {
  run: Run;
  executor: Executor;
  credentials: CredentialResolver;
  actor: Actor;
  onSecret: (c: ResolvedCredential) => void;
}) {
  // A scheduled run's use names the schedule beside its owner (the actor of the audit entry).
  const purpose = `job:${o.run.type}${o.run.triggerKind === 'schedule' && o.run.triggeredBy ? ` schedule:${o.run.triggeredBy}` : ''}`;
  const decrypted = new Map<string, Promise<ResolvedCredential>>();
  const allowed = new Map<string, Promise<boolean>>();
  let runIsProfile: Promise<boolean> | undefined;

  async function checkUse(id: string, what: string): Promise<void> {
    let p = allowed.get(id);
    if (!p) {
      p = o.credentials.canUse(o.actor, id);
      allowed.set(id, p);
    }
    if (!(await p)) {
      throw new PermanentError(
        'policy',
        `${CREDENTIAL_FORBIDDEN}: ${o.actor.name} may not use ${what} ${id} (not in their teams, or no credentials:use); it was not decrypted`,
      );
    }
  }

  function resolve(id: string): Promise<ResolvedCredential> {
    let p = decrypted.get(id);
    if (!p) {
      p = o.credentials.resolve(id, purpose, o.run.id, o.actor).then((c) => {
        o.onSecret(c);
        return c;
      });
      decrypted.set(id, p);
    }
    return p;
  }

  async function planOf(t: TargetRow): Promise<{ credentialId: string | null; profileId: string | null }> {
    if (t.credentialSource) return { credentialId: t.credentialProfileId ? null : t.credentialId, profileId: t.credentialProfileId };
    if (!o.run.credentialId) return { credentialId: null, profileId: null };
    runIsProfile ??= Promise.resolve(o.credentials.profileExists?.(o.run.credentialId) ?? false);
    return (await runIsProfile) ? { credentialId: null, profileId: o.run.credentialId } : { credentialId: o.run.credentialId, profileId: null };
  }

  return {
    /** Runs `attempt` with the target's credential; answers which credential served it. */
    async run<T>(t: TargetRow, attempt: (credential: ResolvedCredential | null) => Promise<T>): Promise<{ result: T; credentialId: string | null }> {
      if (o.executor.credential === 'none') return { result: await attempt(null), credentialId: null };
      const plan = await planOf(t);
      if (plan.profileId) {
        if (!o.credentials.tryProfile) throw new Error('credential profiles are not available on this worker');
        await checkUse(plan.profileId, 'credential profile');
        return o.credentials.tryProfile(
          plan.profileId,
          deviceKey(t),
          (c) => {
            o.onSecret(c);
            return attempt(c);
          },
          { purpose, runId: o.run.id, actor: o.actor },
        );
      }
      if (plan.credentialId) {
        await checkUse(plan.credentialId, 'credential');
        return { result: await attempt(await resolve(plan.credentialId)), credentialId: plan.credentialId };
      }
      if (o.executor.credential === 'required') {
        throw new PermanentError('invalid', 'no credential for this target: the run gives none and neither the device, its location nor its group names one');
      }
      return { result: await attempt(null), credentialId: null };
    },
  };
}

export type TargetCredentials = ReturnType<typeof createTargetCredentials>;
