/** Turning a pino line into a system-log entry: which lines are kept, their source, their bounded fields. */

export const LOG_SOURCES = ['api', 'worker', 'scheduler', 'executor', 'auth', 'workflow'] as const;
export type LogSource = (typeof LOG_SOURCES)[number];
export const LOG_LEVELS = ['info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const LEVEL_OF: Record<number, LogLevel> = { 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export interface LogEntry {
  time: string;
  level: LogLevel;
  source: LogSource;
  node: string;
  message: string;
  fields: Record<string, unknown>;
}

/** Field `source` wins; else the module a child logger names; else request lines are `api`. */
const MODULE_SOURCE: Record<string, LogSource> = { schedules: 'scheduler', jobs: 'worker', workflows: 'workflow', identity: 'auth' };
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'persist', 'source']);
const MAX_FIELDS_CHARS = 4000;

function sourceOf(o: Record<string, unknown>): LogSource {
  if ((LOG_SOURCES as readonly unknown[]).includes(o.source)) return o.source as LogSource;
  if (typeof o.executor === 'string') return 'executor';
  const mod = typeof o.module === 'string' ? MODULE_SOURCE[o.module] : undefined;
  if (mod) return mod;
  if (typeof o.msg === 'string' && /^(auth|login|sign-in|token|session)/i.test(o.msg)) return 'auth';
  return 'api';
}

/** Keeps fields small: long strings cut, the whole bounded; the line was already redacted by the logger. */
function boundFields(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let size = 0;
  for (const [k, v] of Object.entries(o)) {
    if (OMIT.has(k)) continue;
    const text = JSON.stringify(v) ?? 'null';
    if (size + text.length > MAX_FIELDS_CHARS) {
      out._truncated = true;
      break;
    }
    size += text.length + k.length;
    out[k] = v;
  }
  return out;
}

/**
 * The entry a written line becomes, or null: warnings and worse always, info only when the
 * line says `persist: true`, never a line marked `nopersist` (the sink's own complaints).
 */
export function toEntry(line: string, node: string): LogEntry | null {
  const m = /^\{"level":(\d+)/.exec(line);
  if (!m) return null;
  const level = Number(m[1]);
  if (level < 30 || (level < 40 && !line.includes('"persist":true')) || line.includes('"nopersist":true')) return null;
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
  return {
    time: typeof o.time === 'string' ? o.time : new Date().toISOString(),
    level: LEVEL_OF[Math.min(60, Math.floor(level / 10) * 10)] ?? 'error',
    source: sourceOf(o),
    node,
    message: (typeof o.msg === 'string' ? o.msg : '').slice(0, 1000),
    fields: boundFields(o),
  };
}

/** The levels at or above `min` (a query's `level` is the lowest shown). */
export function levelsFrom(min: LogLevel): LogLevel[] {
  return LOG_LEVELS.slice(LOG_LEVELS.indexOf(min));
}
