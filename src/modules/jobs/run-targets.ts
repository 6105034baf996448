import { AppError } from '../../platform/errors.js';
import { hasPermission, SYSTEM_ACTOR, type Actor } from '../../platform/http/auth.js';
import { nowIso } from '../../platform/ids.js';
import type { CredentialResolver } from './credentials.js';
import type { TargetSpec } from './jobs.schemas.js';
import type { RunLog } from './run-log.js';
import type { Run, RunsRepository, TargetRow } from './runs.repository.js';
import { credentialPlan, isSelector, NO_IDENTITY, PENDING_TARGET, rowsFor, type SelectedDevice, type TargetResolver } from './targets.js';

/** The run cannot start for a reason retrying will not change: it fails at once, no further attempts. */
export class RunRefused extends Error {}

/** Identity's slice: who a stored principal is now (null when gone, disabled or revoked). */
export interface Principals {
  actorOf(kind: 'user' | 'api_key', id: string): Promise<Actor | null>;
}

/** Inventory's slice: facts read from a device, written as the initiating principal. */
export interface InventoryFacts {
  updateDeviceFacts(actor: Actor, deviceId: string, facts: Record<string, string>): Promise<string[]>;
}

/** The worker lost the run's lease while preparing it: it must write nothing more (see jobs.engine.ts#finalize). */
export class LeaseLost extends Error {}

export const NOTHING_MATCHED = 'the target selectors matched no devices';

/**
 * The principal the run acts for, as it is now: the user or API key that started it, or the owner
 * of the schedule that did (`initiator_kind`/`initiator_id`; runs stored before those columns
 * fall back to `trigger_kind`/`triggered_by`), with their current rights and teams. A disabled or
 * deleted user, a revoked key or a lost `jobs:run` refuses the run. Runs the system started
 * (workflows, the CLI) act as the system.
 */
export async function initiatorOf(
  run: Pick<Run, 'triggerKind' | 'triggeredBy' | 'initiatorKind' | 'initiatorId'>,
  principals: Principals | undefined,
): Promise<Actor> {
  const kind = run.initiatorKind ?? run.triggerKind;
  const id = run.initiatorKind ? run.initiatorId : run.triggeredBy;
  if ((kind !== 'user' && kind !== 'api_key') || !principals) return SYSTEM_ACTOR;
  const who =
    run.triggerKind === 'schedule' ? `owner of schedule ${run.triggeredBy}` : kind === 'user' ? 'user that started this run' : 'API key that started this run';
  const actor = id ? await principals.actorOf(kind, id) : null;
  if (!actor) throw new RunRefused(`refused: the ${who} no longer exists or is disabled`);
  if (!hasPermission(actor, 'jobs:run')) throw new RunRefused(`refused: ${actor.name} (the ${who}) may no longer run jobs (jobs:run)`);
  return actor;
}

/**
 * The run's targets: stored ones, or, the first time a run with inventory selectors executes,
 * what the selectors match now (recorded device by device with their credential plan; plain
 * hosts follow the devices). Nothing matched is a refusal.
 */
export async function prepareTargets(o: {
  run: Run;
  owner: string;
  actor: Actor;
  usesCredentials: boolean;
  maxTargets: number;
  resolver: TargetResolver | undefined;
  runs: RunsRepository;
  /** The run's target rows if already read for this attempt. */
  stored?: TargetRow[] | undefined;
  credentials: CredentialResolver;
  log: RunLog;
}): Promise<TargetRow[]> {
  const stored = o.stored ?? (await o.runs.targets(o.run.id));
  const specs = (o.run.targets ?? []) as TargetSpec[];
  if (stored.length > 0 || !specs.some(isSelector)) return stored;
  if (!o.resolver) throw new RunRefused('inventory targets need the inventory module');
  let devices;
  try {
    devices = await o.resolver.resolve(o.actor, specs.filter(isSelector));
  } catch (err) {
    // A selector that names nothing now, or rights the initiator lacks, will not change on a retry; anything else may.
    if (err instanceof AppError && err.status < 500) throw new RunRefused(`target resolution failed: ${err.message}`);
    throw err;
  }
  const runCredential = {
    credentialId: o.run.credentialId,
    credentialIsProfile: o.run.credentialId ? Boolean(await o.credentials.profileExists?.(o.run.credentialId)) : false,
  };
  // An executor that takes no credential (ping, tcp_port_scan) decrypts none, whatever the device names.
  const plan = (d: SelectedDevice | null) =>
    o.usesCredentials ? credentialPlan(runCredential, d) : credentialPlan({ credentialId: null, credentialIsProfile: false }, null);
  const rows = rowsFor(
    devices.map((d) => ({ ...d, plan: plan(d) })),
    o.run.attempt,
    nowIso(),
  );
  for (const host of specs.filter((s): s is string => typeof s === 'string')) {
    rows.push({
      ...NO_IDENTITY,
      ...plan(null),
      idx: rows.length,
      host,
      deviceId: null,
      ...PENDING_TARGET,
    });
  }
  if (rows.length === 0) throw new RunRefused(NOTHING_MATCHED);
  if (rows.length > o.maxTargets) {
    throw new RunRefused(`refused: the target selectors matched ${rows.length} targets; a run may have at most ${o.maxTargets} (OPSDECK_RUN_MAX_TARGETS)`);
  }
  // Fenced by the lease: a worker paused past it writes nothing and stops here (the attempt that took the run over resolves them).
  if (!(await o.runs.insertTargets(o.run.id, o.owner, rows))) throw new LeaseLost('the run was taken over before its targets were recorded');
  o.log.log(
    'info',
    null,
    `targets resolved: ${rows.length} (${devices
      .map((d) => d.name)
      .slice(0, 20)
      .join(', ')}${devices.length > 20 ? ', …' : ''})`,
  );
  return o.runs.targets(o.run.id);
}
