import { createHmac, timingSafeEqual } from 'node:crypto';
import { hasPermission, type Actor } from '../../platform/http/auth.js';

/** An outbox position: events are ordered by (relay batch, id). */
export interface Cursor {
  seq: number;
  id: string;
}

export const START: Cursor = Object.freeze({ seq: 0, id: '00000000-0000-0000-0000-000000000000' });

/** `12.0193…`: the SSE id / history cursor (opaque to clients). */
export const encodeCursor = (c: Cursor): string => `${c.seq}.${c.id}`;

const CURSOR = /^(\d{1,15})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/** Null when the text is not a cursor this server wrote. */
export function decodeCursor(text: string): Cursor | null {
  const m = CURSOR.exec(text.trim());
  return m ? { seq: Number(m[1]), id: m[2]!.toLowerCase() } : null;
}

export const after = (a: Cursor, b: Cursor): boolean => a.seq > b.seq || (a.seq === b.seq && a.id > b.id);

/** `device.*`, `run.failed`, `*`: a `*` matches any run of characters (dots included). */
export function globMatcher(patterns: readonly string[]): (name: string) => boolean {
  if (patterns.length === 0) return () => true;
  const res = patterns.map(
    (p) =>
      new RegExp(
        `^${p
          .split('*')
          .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      ),
  );
  return (name) => res.some((r) => r.test(name));
}

export const EVENT_PATTERN = '^[a-z0-9_.*-]{1,100}$';

/**
 * Who may read which event, by name prefix. An event whose name matches no entry is shown to
 * admins (`*`) only: a new kind of event is hidden until someone decides who may see it.
 */
const READ_PERMISSION: readonly [prefix: string, permission: string][] = [
  ['device.', 'devices:read'],
  ['interface.', 'devices:read'],
  ['location.', 'locations:read'],
  ['ip_address.', 'ipam:read'],
  ['link.', 'topology:read'],
  ['device_group.', 'device-groups:read'],
  ['custom_field.', 'custom-fields:read'],
  ['manufacturer.', 'inventory:read'],
  ['platform.', 'inventory:read'],
  ['device_type.', 'inventory:read'],
  ['device_role.', 'inventory:read'],
  ['status.', 'inventory:read'],
  ['tag.', 'inventory:read'],
  ['run.', 'jobs:read'],
  ['job_template.', 'jobs:read'],
  ['schedule.', 'schedules:read'],
  ['user.', 'users:read'],
  ['role.', 'roles:read'],
  ['credential.', 'credentials:read'],
  ['webhook.', 'webhooks:read'],
  ['config.', 'configs:read'],
  ['alert.', 'alerts:read'],
  ['file.', 'files:read'],
  ['upload.', 'files:read'],
  ['image.', 'images:read'],
  ['workflow.', 'workflows:read'],
];

export function readPermissionOf(eventName: string): string | null {
  return READ_PERMISSION.find(([prefix]) => eventName.startsWith(prefix))?.[1] ?? null;
}

/** Whether the actor may see this event (on a stream, in the history). */
export function canRead(actor: Actor, eventName: string): boolean {
  if (actor.permissions === '*') return true;
  const permission = readPermissionOf(eventName);
  return permission !== null && hasPermission(actor, permission);
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, the X-Opsdeck-Signature header. */
export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** What a receiver does: recompute and compare in constant time, refusing stale timestamps. */
export function verifySignature(secret: string, body: string, header: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const parts = Object.fromEntries(header.split(',').map((kv) => kv.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds || typeof parts.v1 !== 'string') return false;
  const expected = Buffer.from(signatureHeader(secret, body, t).split('v1=')[1]!, 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Exponential backoff with a cap: base, 2×base, 4×base … */
export function backoffMs(attempt: number, baseMs: number, capMs = 3_600_000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
