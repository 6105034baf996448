import { spawn } from 'node:child_process';
import { childEnv } from '../../../platform/child-env.js';
import path from 'node:path';
import { Type, type Static } from 'typebox';
import type { Executor } from './executor.js';
import { lineSplitter, truncate } from './text.fns.js';

const Params = Type.Object(
  {
    command: Type.String({ minLength: 1, maxLength: 1024, description: 'An executable from the allow-list (OPSDECK_JOBS_LOCAL_COMMANDS)' }),
    args: Type.Optional(
      Type.Array(Type.String({ maxLength: 4096 }), {
        maxItems: 256,
        description: 'Argument array (never a shell); `{{target}}` and `{{run_id}}` are replaced',
      }),
    ),
    parse: Type.Optional(
      Type.Union([Type.Literal('none'), Type.Literal('json'), Type.Literal('json_lines')], { description: "How stdout becomes the run's report (none)" }),
    ),
    ok_exit_codes: Type.Optional(
      Type.Array(Type.Integer({ minimum: 0, maximum: 255 }), { maxItems: 32, description: 'Exit codes that count as success ([0])' }),
    ),
  },
  { additionalProperties: false },
);
type Params = Static<typeof Params>;

/** A command is allowed if the list names it exactly, by bare name or by absolute path. */
export function commandAllowed(command: string, allowList: readonly string[]): boolean {
  return allowList.includes(command) && (path.isAbsolute(command) || !command.includes('/'));
}

function render(arg: string, vars: Record<string, string>): string {
  return arg.replace(/\{\{\s*(target|run_id)\s*\}\}/g, (_, name: string) => vars[name] ?? '');
}

function parseReport(stdout: string, mode: Params['parse']): unknown {
  if (!mode || mode === 'none') return null;
  if (mode === 'json') return JSON.parse(stdout) as unknown;
  return stdout
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as unknown);
}

// NOTE: children run in their own process group so cancel can kill what they started too.
function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Runs an allow-listed executable with an argument array, streaming stdout/stderr to the log. */
export const localCommandExecutor: Executor<Params> = {
  type: 'local_command',
  description: 'Runs an admin-allowed executable on the worker with templated arguments (no shell), streaming its output to the log.',
  params: Params,
  output: Type.Object({ exit_code: Type.Union([Type.Integer(), Type.Null()]), report: Type.Unknown() }),
  credential: 'none',
  targets: 'optional',
  changesDevices: () => false,
  report: (parsed) => {
    const reports = parsed.map((p) => (p as { report?: unknown } | null)?.report ?? null);
    return reports.length === 1 ? reports[0] : reports;
  },
  check(p, settings) {
    return commandAllowed(p.command, settings.localCommandAllowList)
      ? []
      : [{ path: 'body.params.command', message: `'${p.command}' is not in the local command allow-list` }];
  },
  run(ctx, p, settings) {
    return new Promise((resolve, reject) => {
      if (!commandAllowed(p.command, settings.localCommandAllowList)) return reject(new Error(`'${p.command}' is not in the local command allow-list`));
      const vars = { target: ctx.host, run_id: ctx.runId };
      const child = spawn(
        p.command,
        (p.args ?? []).map((a) => render(a, vars)),
        { shell: false, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() },
      );
      let stdout = '';
      const onOut = lineSplitter((line) => ctx.log('info', line));
      const onErr = lineSplitter((line) => ctx.log('warn', line));
      child.stdout.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        if (stdout.length < settings.maxOutputChars) stdout += text;
        onOut.push(text);
      });
      child.stderr.on('data', (chunk: Buffer) => onErr.push(chunk.toString('utf8')));
      let killTimer: NodeJS.Timeout | undefined;
      const abort = () => {
        killGroup(child.pid, 'SIGTERM');
        killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 500);
      };
      ctx.signal.addEventListener('abort', abort, { once: true });
      child.on('error', (err) => {
        ctx.signal.removeEventListener('abort', abort);
        reject(err);
      });
      child.on('close', (code) => {
        clearTimeout(killTimer);
        ctx.signal.removeEventListener('abort', abort);
        onOut.end();
        onErr.end();
        if (ctx.signal.aborted) return reject(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('aborted'));
        const okCodes = p.ok_exit_codes ?? [0];
        const ok = code !== null && okCodes.includes(code);
        let report: unknown;
        try {
          report = ok ? parseReport(stdout, p.parse) : null;
        } catch (err) {
          return resolve({
            ok: false,
            output: truncate(stdout, settings.maxOutputChars),
            parsed: { exit_code: code, report: null },
            error: `output is not valid JSON: ${(err as Error).message}`,
          });
        }
        resolve({
          ok,
          output: truncate(stdout, settings.maxOutputChars),
          parsed: { exit_code: code, report },
          ...(ok ? {} : { error: code === null ? 'killed by a signal' : `exit code ${code}` }),
        });
      });
    });
  },
};
