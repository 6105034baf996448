import type { Static } from 'typebox';
import { AppError } from '../../platform/errors.js';
import type { Executor } from '../jobs/index.js';
import { SyncParams, SyncReport } from './integrations.schemas.js';
import type { SyncService } from './sync.service.js';

type Params = Static<typeof SyncParams>;

/** Failures a retry cannot fix: no connection, a refused token or permission, a rejected object. */
const PERMANENT = new Set([
  'PERMISSION_DENIED',
  'INTEGRATION_NOT_CONFIGURED',
  'INTEGRATION_AUTH_FAILED',
  'INTEGRATION_CREDENTIAL_TYPE',
  'INTEGRATION_EGRESS_REFUSED',
  'INTEGRATION_REJECTED',
  'CREDENTIAL_NOT_FOUND',
]);

/** `integration_sync`: imports a Nautobot or NetBox into the inventory on the worker, as the run's initiator (registered with the jobs module by modules.ts). */
export function integrationSyncExecutor(sync: Pick<SyncService, 'run'>): Executor<Params> {
  return {
    type: 'integration_sync',
    description:
      'Imports locations, platforms, roles, statuses, devices, interfaces and IP addresses from Nautobot or NetBox, or (direction push) pushes Opsdeck devices there (dry_run: the diff only).',
    params: SyncParams,
    output: SyncReport,
    credential: 'none',
    targets: 'optional',
    changesDevices: () => false,
    async run(ctx, params) {
      try {
        // As the run's initiator now: integrations:sync, the inventory writes and the token's credential are checked at execution.
        const { system, ...options } = params;
        const report = await sync.run(ctx.actor, system, { ...options, dry_run: params.dry_run ?? false }, ctx.runId, ctx.signal);
        const c = report.counts.devices;
        const [i, a] = [report.counts.interfaces, report.counts.ip_addresses];
        const line =
          report.direction === 'push'
            ? `${report.dry_run ? 'plan' : 'pushed'} to ${report.system}: devices +${c.create} ~${c.update} =${c.unchanged}; ${report.skipped?.length ?? 0} skipped`
            : `${report.dry_run ? 'plan' : 'imported'} from ${report.system}: devices +${c.create} ~${c.update} -${c.delete} =${c.unchanged}; interfaces +${i.create} ~${i.update} -${i.delete}; addresses +${a.create} ~${a.update} -${a.delete}; ${report.conflicts_total} conflicts`;
        ctx.log('info', line);
        return { output: line, parsed: report, ok: true };
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        ctx.log('error', err.message);
        return { output: err.message, parsed: null, ok: false, error: `${err.code}: ${err.message}`, retryable: !PERMANENT.has(err.code) };
      }
    },
  };
}
