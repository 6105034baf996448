/**
 * Public surface of the workflows module: definitions with versions, the durable execution
 * engine, and its triggers (manual, webhook, domain events). See README.md for the invariants.
 */
import os from 'node:os';
import type { RoutePlugin } from '../../app.js';
import type { Db } from '../../platform/db/database.js';
import { newId } from '../../platform/ids.js';
import type { Actor } from '../../platform/http/auth.js';
import type { Logger } from '../../platform/observability/logger.js';
import type { SubscriberRunner } from '../events/index.js';
import type { AlertsPort, JobsPort, RenderPort } from './nodes.js';
import { createWorkflowEngine } from './workflows.engine.js';
import { createWorkflowsRepository } from './workflows.repository.js';
import { hookRoutes, workflowsRoutes } from './workflows.routes.js';
import { TRIGGER_EVENTS } from './workflows.schemas.js';
import { createWorkflowsService, type AuditPort, type EventsPort } from './workflows.service.js';

export type { AlertsPort, JobsPort, RenderPort } from './nodes.js';

export const WORKFLOWS_PERMISSIONS = ['workflows:read', 'workflows:write', 'workflows:execute'] as const;

export interface WorkflowsModuleDeps {
  db: Db;
  logger: Logger;
  events: EventsPort;
  audit?: AuditPort;
  /** The jobs module (job nodes create real runs through its service), adapted in modules.ts. */
  jobs: JobsPort;
  /** The alerts module (notification nodes raise alerts). */
  alerts: AlertsPort;
  /** The templates module's sandboxed Jinja renderer: `{{ … }}` in parameters and expressions. */
  render: RenderPort;
  /** Identity: the principal an execution acts as, as it is now (re-checked before every node). */
  owners: { actorOf(kind: 'user', id: string): Promise<Actor | null> };
  /** The events module's durable subscribers: domain-event triggers. */
  subscribers: Pick<SubscriberRunner, 'add'>;
  config: { roles: readonly string[]; workflowsLeaseMs: number };
  nodeId?: string;
}

export function createWorkflowsModule(deps: WorkflowsModuleDeps) {
  const logger = deps.logger.child({ module: 'workflows' });
  const nodeId = deps.nodeId ?? `${os.hostname()}:${process.pid}:${newId().slice(-8)}`;
  const engine = createWorkflowEngine({
    db: deps.db,
    logger,
    nodeId,
    leaseMs: deps.config.workflowsLeaseMs,
    pollMs: Math.min(1000, Math.max(100, Math.floor(deps.config.workflowsLeaseMs / 3))),
    jobs: deps.jobs,
    alerts: deps.alerts,
    render: deps.render,
    owners: deps.owners,
    events: deps.events,
  });
  const worker = deps.config.roles.includes('worker');
  const service = createWorkflowsService({
    db: deps.db,
    logger,
    audit: deps.audit,
    events: deps.events,
    executorTypes: () => deps.jobs.executorTypes(),
    wake: () => (worker ? engine.wake() : undefined),
  });
  deps.subscribers.add({
    name: 'workflows.triggers',
    events: TRIGGER_EVENTS,
    handle: async (db, event) => void (await service.onEvent(db, event)),
    afterCommit: () => {
      if (worker) engine.wake();
      void deps.events.relay().catch(() => undefined);
    },
  });
  const repo = createWorkflowsRepository(deps.db);
  const plugins: RoutePlugin[] = [
    { prefix: '/api/v1', plugin: workflowsRoutes(service) },
    { prefix: '/api/v1', plugin: hookRoutes(service) },
  ];
  return {
    service,
    engine,
    plugins,
    permissions: WORKFLOWS_PERMISSIONS,
    teamScoped: { workflow: (ids: readonly string[]) => repo.teamsOf(ids), workflow_execution: (ids: readonly string[]) => repo.executionTeamsOf(ids) },
    /** `worker`-role processes drive executions. */
    start(): void {
      if (worker) engine.start();
    },
    stop: () => engine.stop(),
  };
}
export type WorkflowsModule = ReturnType<typeof createWorkflowsModule>;
