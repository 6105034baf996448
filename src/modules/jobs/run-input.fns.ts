import { createHash } from 'node:crypto';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import type { TSchema } from 'typebox';
import type { FieldError } from '../../platform/errors.js';
import type { Executor, ExecutorSettings } from './executors/executor.js';

const compiled = new WeakMap<TSchema, ReturnType<typeof Compile>>();

function checker(schema: TSchema): ReturnType<typeof Compile> {
  let c = compiled.get(schema);
  if (!c) {
    c = Compile(schema);
    compiled.set(schema, c);
  }
  return c;
}

/** `/a/0/b` → `body.params.a.0.b` */
function fieldPath(instancePath: string, root: string): string {
  return instancePath ? `${root}${instancePath.replace(/\//g, '.')}` : root;
}

/**
 * Validates executor parameters against the executor's schema (defaults applied), then its
 * own rules (allow-lists). Returns the snapshot to store, or every field error at once.
 */
export function validateParams(
  executor: Executor,
  params: unknown,
  settings: ExecutorSettings,
  root = 'body.params',
): { ok: true; params: Record<string, unknown> } | { ok: false; errors: FieldError[] } {
  const value = Value.Default(executor.params, structuredClone(params ?? {})) as Record<string, unknown>;
  const check = checker(executor.params);
  if (!check.Check(value)) {
    const errors = [...check.Errors(value)].slice(0, 50).map((e) => {
      const extra = (e.params as { additionalProperties?: string[] }).additionalProperties;
      return { path: fieldPath(e.instancePath, root), message: extra ? `unknown parameter(s): ${extra.join(', ')}` : e.message };
    });
    return { ok: false, errors: errors.filter((e, i) => errors.findIndex((o) => o.path === e.path && o.message === e.message) === i) };
  }
  const ruleErrors = executor.check?.(value, settings) ?? [];
  if (ruleErrors.length > 0) return { ok: false, errors: ruleErrors.map((e) => ({ ...e, path: e.path.replace(/^body\.params/, root) })) };
  return { ok: true, params: value };
}

/** JSON with object keys sorted, so two equal requests serialise alike whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The fingerprint stored with an idempotent create (sha256 of the canonical JSON of the request). */
export function requestFingerprint(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

export const RUN_DEFAULTS = {
  priority: 5,
  max_attempts: 1,
  backoff_ms: 1000,
  timeout_ms: 3_600_000,
  target_timeout_ms: 300_000,
  target_concurrency: 10,
} as const;

/** A run's or template's execution settings from its request body, defaults applied. */
export function runSettingsOf(body: Partial<Record<keyof typeof RUN_DEFAULTS, number | undefined>>) {
  return {
    priority: body.priority ?? RUN_DEFAULTS.priority,
    timeoutMs: body.timeout_ms ?? RUN_DEFAULTS.timeout_ms,
    targetTimeoutMs: body.target_timeout_ms ?? RUN_DEFAULTS.target_timeout_ms,
    targetConcurrency: body.target_concurrency ?? RUN_DEFAULTS.target_concurrency,
    maxAttempts: body.max_attempts ?? RUN_DEFAULTS.max_attempts,
    backoffMs: body.backoff_ms ?? RUN_DEFAULTS.backoff_ms,
  };
}
