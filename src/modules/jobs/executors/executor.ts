import type { TSchema } from 'typebox';
import type { Actor } from '../../../platform/http/auth.js';
import type { EgressPolicy } from '../../../platform/egress/index.js';
import type { FieldError } from '../../../platform/errors.js';
import type { ResolvedCredential } from '../credentials.js';
import type { HostKeyStore } from '../ssh-host-keys.service.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What an executor gets for one target. Everything it logs is scrubbed before it is stored. */
export interface TargetContext {
  runId: string;
  /** Host name or address; `local` for executors that run on the worker itself. */
  host: string;
  deviceId: string | null;
  /** Aborted on cancel, run timeout, per-target timeout or a lost lease: stop promptly. */
  signal: AbortSignal;
  credential: ResolvedCredential | null;
  /**
   * The principal the run acts for (its initiator or schedule owner), rebuilt with their current
   * rights when the attempt started (run-targets.ts#initiatorOf). An executor that acts on
   * Opsdeck's own objects (configs' `git_sync`) authorises and resolves credentials as them.
   */
  actor: Actor;
  /** The inventory device's platform driver (e.g. `cisco_ios`): chooses the CLI mode and parsers. */
  networkDriver?: string | null;
  /** Parses a command's output with the ntc-templates entry for this device's platform (inventory targets). */
  parse?: (command: string, output: string) => Promise<unknown>;
  /** Writes facts read from the device (`os_version`, `serial`, `hostname`) to the inventory; answers the fields changed. */
  updateDeviceFacts?: (facts: Record<string, string>) => Promise<string[]>;
  /** Scratch space shared by the run's targets (e.g. a run-wide rate limiter). */
  shared: Map<string, unknown>;
  log(level: LogLevel, message: string): void;
}

export interface TargetResult {
  /** Human-readable output (scrubbed before storing). */
  output: string;
  /** Structured output, validated against the executor's output schema. */
  parsed: unknown;
  /** A result can fail without throwing, e.g. a command that exited non-zero. */
  ok: boolean;
  error?: string;
  /** false for a failure no retry can fix (see `failure.fns.ts`); the run is then not retried for it. */
  retryable?: boolean;
}

/** Settings executors need from configuration, injected once. */
export interface ExecutorSettings {
  localCommandAllowList: readonly string[];
  /** Outbound HTTP policy (`platform/egress`): `http_request` checks its URL at save time and every hop at run time. */
  egress: EgressPolicy;
  /** Largest output kept per target, in characters. */
  maxOutputChars: number;
  /** SSH host keys pinned on first use (`ssh-host-keys.service.ts`); absent: any key is accepted. */
  hostKeys?: HostKeyStore;
}

export interface Executor<P = any> {
  type: string;
  description: string;
  params: TSchema;
  output: TSchema;
  /** `required` refuses a run without a credential; `none` refuses one with. */
  credential: 'required' | 'optional' | 'none';
  /** `none`: runs on the worker itself (one pseudo-target `local`) when no targets are given. */
  targets: 'required' | 'optional';
  /**
   * Whether a run may change the devices it touches. Such a run is never re-run after a lost
   * worker: it ends `failed` with `outcome unknown` for a person to review.
   */
  changesDevices(params: P): boolean;
  /** Probes one target costs (ports of a scan); a run's targets × this is bounded by OPSDECK_RUN_MAX_PROBES (default 1). */
  probesPerTarget?(params: P): number;
  /** Rules the schema cannot express (allow-lists); returns field errors under `body.params`. */
  check?(params: P, settings: ExecutorSettings): FieldError[];
  /**
   * Rules that need other modules' data (config_push: the template's variables schema), checked
   * after `check` when a run or job template is created or changed, for the creating actor;
   * returns field errors under `body.params`.
   */
  validate?(actor: Actor, params: P): Promise<FieldError[]>;
  /** The run-level report from the targets' parsed outputs (default: none). */
  report?(parsed: unknown[]): unknown;
  /**
   * A few counts from the targets' parsed outputs for the run's end event (`run.succeeded` …
   * payload `summary`), so subscribers (alerts) see a run's result without reading its output.
   */
  summary?(parsed: unknown[]): Record<string, number>;
  /**
   * Work on one target; throw (or return ok:false) to fail it. Must honour ctx.signal. Throw a
   * `PermanentError` (or return `retryable: false`) when retrying cannot help.
   */
  run(ctx: TargetContext, params: P, settings: ExecutorSettings): Promise<TargetResult>;
}

/** Rejects when the signal aborts; used to race blocking waits against cancel and timeouts. */
export function abortPromise(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(abortError(signal));
    else signal.addEventListener('abort', () => reject(abortError(signal)), { once: true });
  });
}

export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(typeof reason === 'string' ? reason : 'aborted');
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
