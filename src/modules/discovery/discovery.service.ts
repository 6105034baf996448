import type { Db } from '../../platform/db/database.js';
import { BadRequestError, NotFoundError, ValidationError, type FieldError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { decodeCursor, encodeCursor } from '../../platform/http/pagination.js';
import { isUuid, newId, nowIso } from '../../platform/ids.js';
import type { InventoryServices } from '../inventory/index.js';
import type { JobsService } from '../jobs/index.js';
import { compare, matchDevice, type KnownDevice } from './compare.fns.js';
import type { DiscoveryRepository, ScanRow } from './discovery.repository.js';
import type { CreateScanBody, HostView, OnboardBody, ReviewBody } from './discovery.schemas.js';
import type { DiscoveryParams } from './discovery.executor.js';
import { emptyHostResult, type HostResultT } from './host-result.js';
import { expandTargets, rangeKey } from './targets.fns.js';
import { onboardHosts } from './onboard.js';

export interface DiscoveryServiceDeps {
  db: Db;
  repo: DiscoveryRepository;
  jobs: Pick<JobsService, 'createRun' | 'getRun' | 'output' | 'cancelRun'>;
  inventory: InventoryServices;
  /** Whether `actor` may use a credential profile (credentials:use and team scope). */
  canUseCredential(actor: Actor, id: string): Promise<boolean>;
  /** The `discovery.max_hosts_per_scan` setting, read at each scan. */
  maxHosts(): number;
  audit: {
    record(
      db: Db,
      entry: { actor: Actor; action: string; resourceType: string; resourceId?: string | null; outcome: 'success'; changes?: Record<string, unknown> | null },
    ): Promise<void>;
  };
  events: { record(trx: Db, name: string, payload: unknown): Promise<unknown>; relay(): Promise<void> };
}

const DEFAULTS = { liveness: 'tcp', ports: [22, 23, 80, 443], ssh_port: 22, snmp_port: 161, timeout_ms: 1000, rate_per_second: 200, concurrency: 50 } as const;
const FINISHED = new Set(['succeeded', 'failed', 'cancelled', 'timed_out', 'skipped']);

/** Every device the actor can see, by address and by name (lower case). */
async function knownDevices(inventory: InventoryServices, actor: Actor) {
  const all: KnownDevice[] = [];
  let cursor: string | undefined;
  do {
    const page = await inventory.devices.list(actor, { limit: 1000, ...(cursor ? { cursor } : {}) });
    all.push(...(page.items as unknown as KnownDevice[]));
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  const byAddress = new Map<string, KnownDevice>();
  for (const d of all) for (const a of [d.primary_ip4, d.primary_ip6]) if (a) byAddress.set(a, d);
  return { all, byAddress, byName: new Map(all.map((d) => [d.name.toLowerCase(), d])) };
}

export function createDiscoveryService(deps: DiscoveryServiceDeps) {
  const { repo } = deps;
  async function load(id: string): Promise<ScanRow> {
    const scan = await repo.scan(id);
    if (!scan) throw new NotFoundError('DISCOVERY_SCAN_NOT_FOUND', `No discovery scan ${id}`);
    return scan;
  }
  /** The scan's per-host results from its job run (a host not probed yet has none). */
  async function results(actor: Actor, scan: ScanRow) {
    const out = await deps.jobs.output(actor, scan.runId);
    const hosts = out.targets.filter((t) => FINISHED.has(t.status)).map((t) => ({ target: t, result: (t.parsed as HostResultT | null) ?? null }));
    return { status: out.status, hosts };
  }
  async function view(actor: Actor, scan: ScanRow) {
    const r = await results(actor, scan);
    const alive = r.hosts.filter((h) => h.result?.alive);
    return {
      id: scan.id,
      name: scan.name,
      run_id: scan.runId,
      status: r.status,
      targets: scan.targets.targets,
      exclude: scan.targets.exclude,
      settings: scan.params,
      progress: { hosts: scan.hostCount, probed: r.hosts.length, alive: alive.length, identified: alive.filter((h) => h.result?.platform).length },
      created_by: scan.createdBy,
      created_at: scan.createdAt,
    };
  }
  async function checkProfiles(actor: Actor, body: CreateScanBody): Promise<FieldError[]> {
    const errors: FieldError[] = [];
    for (const field of ['ssh_profile_ids', 'snmp_profile_ids'] as const) {
      for (const [i, id] of (body[field] ?? []).entries()) {
        if (!(await deps.canUseCredential(actor, id))) {
          errors.push({ path: `body.${field}.${i}`, message: 'no credential profile with this id that you may use' });
        }
      }
    }
    return errors;
  }

  return {
    async create(actor: Actor, body: CreateScanBody) {
      requirePermission(actor, 'discovery:write');
      const exclude = body.exclude ?? [];
      const expanded = expandTargets(body.targets, exclude, deps.maxHosts());
      const errors = [...expanded.errors, ...(await checkProfiles(actor, body))];
      if (errors.length > 0) throw new ValidationError('DISCOVERY_SCAN_INVALID', 'The scan cannot run as given', errors);
      const id = newId();
      const params: DiscoveryParams = {
        scan_id: id,
        liveness: body.liveness ?? DEFAULTS.liveness,
        ports: [...new Set([...(body.ports ?? DEFAULTS.ports), body.ssh_port ?? DEFAULTS.ssh_port])],
        ssh_port: body.ssh_port ?? DEFAULTS.ssh_port,
        snmp_port: body.snmp_port ?? DEFAULTS.snmp_port,
        ssh_profile_ids: body.ssh_profile_ids ?? [],
        snmp_profile_ids: body.snmp_profile_ids ?? [],
        timeout_ms: body.timeout_ms ?? DEFAULTS.timeout_ms,
        rate_per_second: body.rate_per_second ?? DEFAULTS.rate_per_second,
      };
      // The jobs service checks `jobs:run_adhoc` (host targets) and the run bounds for this actor.
      const { run } = await deps.jobs.createRun(actor, {
        type: 'discovery',
        targets: expanded.addresses,
        params,
        target_concurrency: body.concurrency ?? DEFAULTS.concurrency,
        target_timeout_ms: Math.max(60_000, params.timeout_ms * 40),
      } as never);
      const { scan_id: _id, ...settings } = params;
      const scan: ScanRow = {
        id,
        name: body.name ?? body.targets.join(', ').slice(0, 200),
        runId: run.id,
        targets: { targets: body.targets, exclude },
        rangeKey: rangeKey(body.targets, exclude),
        hostCount: expanded.addresses.length,
        params: { ...settings, concurrency: body.concurrency ?? DEFAULTS.concurrency },
        createdBy: actor.id,
        createdAt: nowIso(),
      };
      await repo.insertScan(scan);
      await deps.audit.record(deps.db, {
        actor,
        action: 'discovery_scan.created',
        resourceType: 'discovery_scan',
        resourceId: id,
        outcome: 'success',
        changes: { targets: body.targets, exclude, hosts: scan.hostCount, run_id: run.id },
      });
      return view(actor, scan);
    },
    async get(actor: Actor, id: string) {
      requirePermission(actor, 'discovery:read');
      return view(actor, await load(id));
    },
    async list(actor: Actor, query: { limit?: number; cursor?: string }) {
      requirePermission(actor, 'discovery:read');
      const limit = query.limit ?? 50;
      const rows = await repo.scans(limit + 1, query.cursor === undefined ? null : scanCursor(query.cursor));
      const page = rows.slice(0, limit);
      return {
        items: await Promise.all(page.map((s) => view(actor, s))),
        next_cursor: rows.length > limit ? encodeCursor([page[page.length - 1]!.id]) : null,
      };
    },
    async cancel(actor: Actor, id: string) {
      requirePermission(actor, 'discovery:write');
      const scan = await load(id);
      await deps.jobs.cancelRun(actor, scan.runId);
      return view(actor, scan);
    },
    /** Each probed host against the inventory (new / changed / unchanged / missing), the previous scan of the range and the review decision. */
    async hosts(actor: Actor, id: string, query: { state?: string[]; alive?: boolean } = {}): Promise<{ scan_id: string; items: HostView[] }> {
      requirePermission(actor, 'discovery:read');
      const scan = await load(id);
      const [r, known, decisions, prev] = await Promise.all([
        results(actor, scan),
        knownDevices(deps.inventory, actor),
        repo.decisions(id),
        repo.previousOf(scan),
      ]);
      const before = prev ? new Map((await results(actor, prev)).hosts.map((h) => [h.target.host, h.result?.alive === true])) : null;
      const items = r.hosts.flatMap(({ target, result }): HostView[] => {
        const host = result ?? emptyHostResult(target.host, target.error);
        const c = compare(host, matchDevice(host, known.byAddress, known.byName));
        const d = decisions.get(host.address);
        const was = before?.get(host.address) ?? false;
        return [
          {
            ...host,
            state: c.state,
            device_id: d?.deviceId ?? c.device?.id ?? null,
            changes: c.changes,
            previous: before ? (host.alive && !was ? 'appeared' : !host.alive && was ? 'disappeared' : 'same') : null,
            decision: d?.decision ?? 'pending',
            edits: d?.edits ?? {},
          },
        ];
      });
      return {
        scan_id: id,
        items: items.filter((h) => (!query.state || query.state.includes(h.state)) && (query.alive === undefined || h.alive === query.alive)),
      };
    },
    /** Accept or reject hosts (one or many), with edits applied at onboarding. */
    async review(actor: Actor, id: string, body: ReviewBody) {
      requirePermission(actor, 'discovery:write');
      const scan = await load(id);
      const probed = new Set((await results(actor, scan)).hosts.filter((h) => h.result?.alive).map((h) => h.target.host));
      const errors = body.items.flatMap((it, i) =>
        probed.has(it.address) ? [] : [{ path: `body.items.${i}.address`, message: `${it.address} is not a live host of this scan` }],
      );
      if (errors.length > 0) throw new ValidationError('DISCOVERY_HOST_UNKNOWN', 'Only live hosts of the scan can be reviewed', errors);
      const existing = await repo.decisions(id);
      const at = nowIso();
      for (const it of body.items) {
        const prev = existing.get(it.address);
        await repo.saveDecision(id, {
          address: it.address,
          decision: it.decision,
          edits: it.edits ?? prev?.edits ?? {},
          deviceId: prev?.deviceId ?? null,
          updatedBy: actor.id,
          updatedAt: at,
        });
      }
      await deps.audit.record(deps.db, {
        actor,
        action: 'discovery_scan.reviewed',
        resourceType: 'discovery_scan',
        resourceId: id,
        outcome: 'success',
        changes: { items: body.items },
      });
      return { updated: body.items.length };
    },
    /** Creates or updates the accepted hosts' devices (interfaces, IPs, LLDP/CDP links) through the inventory; `dry_run` only answers the plan. */
    async onboard(actor: Actor, id: string, body: OnboardBody) {
      requirePermission(actor, 'discovery:write');
      const scan = await load(id);
      const list = await this.hosts(actor, id, { alive: true });
      const only = body.addresses ? new Set(body.addresses) : null;
      const chosen = list.items.filter((h) => h.decision === 'accepted' && (!only || only.has(h.address)));
      const missing = (body.addresses ?? []).flatMap((a, i) =>
        chosen.some((h) => h.address === a) ? [] : [{ path: `body.addresses.${i}`, message: `${a} is not an accepted host of this scan` }],
      );
      if (missing.length > 0) throw new ValidationError('DISCOVERY_HOST_NOT_ACCEPTED', 'Only accepted hosts can be onboarded', missing);
      const report = await onboardHosts(deps.inventory, actor, chosen, body.dry_run === true);
      if (report.dry_run) return report;
      const at = nowIso();
      for (const d of report.devices) {
        const h = chosen.find((x) => x.address === d.address)!;
        await repo.saveDecision(id, { address: d.address, decision: 'onboarded', edits: h.edits, deviceId: d.device_id, updatedBy: actor.id, updatedAt: at });
        await deps.events.record(deps.db, 'device.discovered', {
          device_id: d.device_id,
          name: d.name,
          address: d.address,
          action: d.action,
          scan_id: scan.id,
          platform: h.platform,
          confidence: h.confidence,
        });
      }
      await deps.audit.record(deps.db, {
        actor,
        action: 'discovery_scan.onboarded',
        resourceType: 'discovery_scan',
        resourceId: id,
        outcome: 'success',
        changes: {
          devices: report.devices.map((d) => ({ address: d.address, action: d.action, device_id: d.device_id })),
          links_created: report.links_created,
        },
      });
      await deps.events.relay();
      return report;
    },
  };
}
export type DiscoveryService = ReturnType<typeof createDiscoveryService>;

/** The scan id a list cursor carries (the platform's opaque cursor of one id); anything else is a 400 naming `query.cursor`. */
function scanCursor(cursor: string): string {
  const [id] = decodeCursor(cursor, 1);
  if (typeof id === 'string' && isUuid(id)) return id;
  throw new BadRequestError('INVALID_CURSOR', 'The cursor is invalid', [{ path: 'query.cursor', message: 'invalid cursor; start again without it' }]);
}
