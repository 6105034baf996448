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
      if (p.type === 'discovery') return discoveryResult(p);
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
    case 'workflow.execution.failed':
      return {
        source: 'workflows',
        title: `Workflow ${str(p.workflow_id)} failed`,
        description: `Execution ${str(p.execution_id)} failed: ${str(p.error, 'no reason given')}`.slice(0, 2000),
        severity: 'major',
        labels: { event: name, workflow_id: str(p.workflow_id), execution_id: str(p.execution_id) },
        // One alert per workflow counting failures; its next successful execution resolves it.
        dedup_key: `workflows:failed:${str(p.workflow_id)}`,
      };
    case 'workflow.execution.succeeded':
      return { source: 'workflows', title: 'workflow succeeded', severity: 'info', dedup_key: `workflows:failed:${str(p.workflow_id)}`, status: 'resolved' };
    default:
      return null;
  }
}

/** A discovery scan (a `discovery` run) that found live hosts: one info alert per scan, pointing at its review. */
function discoveryResult(p: P): IngestInput | null {
  const summary = (p.summary ?? {}) as Record<string, unknown>;
  const count = (k: string) => (typeof summary[k] === 'number' ? (summary[k] as number) : 0);
  if (count('alive') === 0) return null;
  return {
    source: 'discovery',
    title: `Discovery found ${count('alive')} live host(s), ${count('identified')} identified`,
    description: `Scan run ${str(p.run_id)} probed ${count('probed')} address(es): ${count('alive')} answered, ${count('identified')} classified. Review them under /api/v1/discovery/scans (the scan with this run_id).`,
    severity: 'info',
    labels: { event: 'run.succeeded', run_type: 'discovery', run_id: str(p.run_id) },
    dedup_key: `discovery:run:${str(p.run_id)}`,
  };
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
  'workflow.execution.failed',
  'workflow.execution.succeeded',
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
