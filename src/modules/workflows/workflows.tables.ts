import type { DB } from '../../platform/db/schema.generated.js';

/** The workflows module's tables: its slice of the generated database types (`npm run db:types`). */
export type WorkflowsTables = Pick<DB, 'workflows' | 'workflowVersions' | 'workflowExecutions' | 'workflowNodeRuns'>;
