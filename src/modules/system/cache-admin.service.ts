import type { AuditService } from '../identity/index.js';
import type { Cache, NamespaceStats } from '../../platform/cache/index.js';
import type { Db } from '../../platform/db/database.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';

export interface CacheAdminDeps {
  cache: Pick<Cache, 'namespaceStats' | 'clearNamespace' | 'invalidateTag'>;
  audit: Pick<AuditService, 'record'>;
  db: Db;
  nodeId: string;
  /** Namespaces a module registered a prefetch loader for. */
  prefetchable: () => string[];
}

/** Cache administration: this node's statistics per namespace; clearing a namespace or a tag on every node, audited. */
export function createCacheAdmin(deps: CacheAdminDeps) {
  const audited = (actor: Actor, resourceType: string, resourceId: string) =>
    deps.audit.record(deps.db, { actor, action: 'cache.cleared', resourceType, resourceId, outcome: 'success' });
  return {
    stats(actor: Actor): { node: string; namespaces: NamespaceStats[]; prefetchable: string[] } {
      requirePermission(actor, 'cache:read');
      return { node: deps.nodeId, namespaces: deps.cache.namespaceStats(), prefetchable: deps.prefetchable() };
    },
    async clearNamespace(actor: Actor, namespace: string): Promise<void> {
      requirePermission(actor, 'cache:write');
      await deps.cache.clearNamespace(namespace);
      await audited(actor, 'cache_namespace', namespace);
    },
    async clearTag(actor: Actor, tag: string): Promise<void> {
      requirePermission(actor, 'cache:write');
      await deps.cache.invalidateTag(tag);
      await audited(actor, 'cache_tag', tag);
    },
  };
}
export type CacheAdmin = ReturnType<typeof createCacheAdmin>;
