import { createTwoFilesPatch } from 'diff';
import { linearMatches, linearTest } from '../../platform/linear-regex.js';

/**
 * Pure parts of `config_push`: which rendered lines go to the device, what a device's refusal
 * looks like, how a configuration is made safe to store (noise stripped, secrets masked by the
 * platform profile's RE2 rules) and the before/after diff.
 */

/** What `config_push` needs of a platform profile (configs' `PlatformProfile` has this shape). */
export interface PushProfile {
  id: string;
  mode: 'device' | 'exec';
  enable: boolean;
  /** RE2 prompt when it is not `name>` / `name#` (Junos `user@host>`). */
  prompt?: string | undefined;
  setupCommands: string[];
  backupCommands: string[];
  stripLines: string[];
  mask: { pattern: string; replacement: string }[];
  configure: { enter: string[]; commit: string[]; exit: string[] } | null;
}

/** The platform profile by id (a run's `profile`) or else by the device's network driver; user-defined ones first (configs' profiles); `memo` is the run's `ctx.shared` (one read per run). */
export type ProfileLookup = (id: string | undefined, driver: string | null | undefined, memo?: Map<string, unknown>) => Promise<PushProfile | null>;

/** A device refusing a line: IOS/NX-OS/EOS `% Invalid input`, `% Incomplete command`, Junos `syntax error` / `error:`. */
const DEVICE_ERROR = /^\s*(?:% ?(?:Invalid|Incomplete|Ambiguous|Unknown|Error|Failed|Unrecognized)\b.*|.*\bsyntax error\b.*|error:.*)$/im;

/** The first line of a device's answer that reports an error, or null. */
export function deviceError(output: string): string | null {
  const m = DEVICE_ERROR.exec(output);
  return m ? m[0].trim().slice(0, 300) : null;
}

/** Rendered lines to send: blank lines and comments (`!`, `#`) are skipped, trailing spaces dropped. */
export function linesToSend(rendered: string): { number: number; text: string }[] {
  const out: { number: number; text: string }[] = [];
  rendered.split(/\r?\n/).forEach((raw, i) => {
    const text = raw.replace(/\s+$/, '');
    const head = text.trimStart();
    if (head === '' || head.startsWith('!') || head.startsWith('#')) return;
    out.push({ number: i + 1, text });
  });
  return out;
}

/** Drops noise lines (profile `stripLines`) and masks secrets (profile `mask`: group 1 kept, the rest replaced). */
export function cleanConfig(text: string, profile: Pick<PushProfile, 'stripLines' | 'mask'>): string {
  const kept: string[] = [];
  for (const line of text.replace(/\r/g, '').split('\n')) {
    if (profile.stripLines.some((p) => linearTest(p, line))) continue;
    kept.push(maskLine(line, profile.mask));
  }
  return kept.join('\n');
}

function maskLine(line: string, rules: PushProfile['mask']): string {
  let out = line;
  for (const rule of rules) {
    const m = linearMatches(rule.pattern, out, 1)[0];
    if (m) out = `${out.slice(0, m.start)}${m.groups[1] ?? ''}${rule.replacement}${out.slice(m.end)}`;
  }
  return out;
}

/** Commands that leave configuration mode without applying: discard the candidate where the platform has a commit. */
export function abortCommands(profile: PushProfile): string[] {
  const configure = profile.configure!;
  if (configure.commit.length === 0) return configure.exit;
  return profile.id.includes('junos') ? ['rollback 0', 'exit configuration-mode'] : ['abort'];
}

/** Saving the running configuration to startup, for platforms without a commit (null: not needed or not known). */
export function saveCommand(profile: PushProfile): string | null {
  if (profile.configure?.commit.length) return null;
  return (
    ({ cisco_ios: 'write memory', arista_eos: 'write memory', cisco_nxos: 'copy running-config startup-config' } as Record<string, string>)[profile.id] ?? null
  );
}

/** A unified diff and its size in lines added and removed. */
export function configDiff(before: string, after: string, names: [string, string]): { diff: string; added: number; removed: number } {
  const diff = before === after ? '' : createTwoFilesPatch(names[0], names[1], `${before}\n`, `${after}\n`, '', '', { context: 3 });
  let added = 0;
  let removed = 0;
  const lines = diff.split('\n');
  for (const line of lines.slice(
    Math.max(
      0,
      lines.findIndex((l) => l.startsWith('@@')),
    ),
  )) {
    if (line.startsWith('+')) added++;
    else if (line.startsWith('-')) removed++;
  }
  return { diff, added, removed };
}
