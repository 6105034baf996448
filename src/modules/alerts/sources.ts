import type { Db } from '../../platform/db/database.js';
import type { Subscriber } from '../events/index.js';
import { severityOf, type IngestInput } from './alerts.fns.js';
import type { AlertsRepos, AlertsService } from './alerts.service.js';

type P = Record<string, unknown>;
const str = (v: unknown, fallback = '') => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : fallback);

/**
 * Domain events that raise (or resolve) alerts. Each maps to an ingest with a stable dedup key,
 * so a template failing every hour is one alert counting up, and its next success resolves it.
 */
export function alertFromEvent(name: string, p: P): IngestInput | null {
  switch (name) {
    case 'run.failed':
    case 'run.timed_out':
    case 'run.expired': {
      const subject = p.template_id ? `template ${str(p.template_id)}` : `run ${str(p.run_id)}`;
      return {
        source: 'jobs',
        title: `${str(p.type, 'job')} run ${name.slice(4).replace('_', ' ')} (${subject})`,
        description: `Run ${str(p.run_id)} ended ${str(p.status, name.slice(4))}.`,
        severity: 'major',
        labels: { event: name, run_type: str(p.type), ...(p.template_id ? { template_id: str(p.template_id) } : {}), run_id: str(p.run_id) },
        dedup_key: `jobs:${p.template_id ? `template:${str(p.template_id)}` : `run:${str(p.run_id)}`}`,
      };
    }
    case 'run.succeeded':
      // A template's success resolves its failure alert (nothing if none is open).
      return p.template_id
        ? { source: 'jobs', title: 'run succeeded', severity: 'info', dedup_key: `jobs:template:${str(p.template_id)}`, status: 'resolved' }
        : null;
    case 'config.noncompliant':
      return {
        source: 'configs',
        title: `${str(p.device, 'device')} is not compliant with ${str(p.rule, 'a rule')}`,
        description: `Missing ${str(p.missing_count, '0')} line(s), extra ${str(p.extra_count, '0')} line(s) in commit ${str(p.commit)}.`,
        severity: severityOf(str(p.severity), 'warning'),
        labels: { event: name, device_id: str(p.device_id), device: str(p.device), rule_id: str(p.rule_id), rule: str(p.rule) },
        dedup_key: `configs:noncompliant:${str(p.device_id)}:${str(p.rule_id)}`,
      };
    case 'config.changed':
      return {
        source: 'configs',
        title: `Configuration changed: ${str(p.path, 'a device')}`,
        description: `Commit ${str(p.commit)} in repository ${str(p.repository_id)}.`,
        severity: 'info',
        labels: { event: name, repository_id: str(p.repository_id), path: str(p.path) },
        // One alert per configuration file, counting changes until someone resolves it.
        dedup_key: `configs:changed:${str(p.repository_id)}:${str(p.path)}`,
      };
    case 'credential.expired':
      return {
        source: 'credentials',
        title: `Credential ${str(p.name, str(p.id))} expired`,
        description: `It expired at ${str(p.expiresAt)}.`,
        severity: 'warning',
        labels: { event: name, credential_id: str(p.id), credential_type: str(p.type) },
        dedup_key: `credentials:expired:${str(p.id)}`,
      };
    case 'schedule.misfired':
      return {
        source: 'schedules',
        title: `Schedule ${str(p.name, str(p.id))} missed ${str(p.missed_count, 'some')} tick(s)`,
        description: `No scheduler ran its ticks up to ${str(p.fire_at)}; misfire policy ${str(p.policy)}: ${
          str(p.policy) === 'run_once' ? 'one catch-up run' : 'nothing was run'
        }.`,
        severity: 'warning',
        labels: { event: name, schedule_id: str(p.id), schedule: str(p.name), misfire: str(p.policy) },
        // One alert per schedule, counting misfire episodes until someone resolves it.
        dedup_key: `schedules:misfired:${str(p.id)}`,
      };
    default:
      return null;
  }
}

export const SOURCE_EVENTS = [
  'run.failed',
  'run.timed_out',
  'run.expired',
  'run.succeeded',
  'config.noncompliant',
  'config.changed',
  'credential.expired',
  'schedule.misfired',
] as const;

/** The durable subscriber (acting as the system) that turns domain events into alerts in its consuming transaction. */
export function createAlertSourcesSubscriber(service: AlertsService, reposFor: (db: Db) => AlertsRepos, afterCommit: () => void): Subscriber {
  return {
    name: 'alerts.sources',
    events: SOURCE_EVENTS,
    async handle(db, event) {
      const input = alertFromEvent(event.name, (event.payload ?? {}) as P);
      if (input) await service.ingestIn(reposFor(db), input, 'system:events', () => undefined);
    },
    afterCommit,
  };
}
