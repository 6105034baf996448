import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { ROOT, runOpsdeck } from '../../../test/helpers/process.js';

const DATA = fileURLToPath(new URL('../../../../shared/data/ntc-templates', import.meta.url));
const LIBRARY = `${DATA}/templates`;
const CASE = `${DATA}/tests/cisco_ios/show_version/cisco_ios_show_version`;
const expected = (YAML.parse(fs.readFileSync(`${CASE}.yml`, 'utf8')) as { parsed_sample: unknown[] }).parsed_sample;
const env = (extra: Record<string, string> = {}) => ({
  OPSDECK_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-parse-')),
  OPSDECK_TEXTFSM_LIBRARY_DIRS: LIBRARY,
  ...extra,
});

async function run(args: string[], extra: Record<string, string> = {}) {
  const p = runOpsdeck(['parse', ...args], env(extra));
  return { code: await p.exited, stdout: p.stdout(), stderr: p.stderr() };
}

describe('opsdeck parse', () => {
  it('parses a file by platform and abbreviated command, printing the ntc-templates records', async () => {
    const r = await run(['--platform', 'cisco_ios', '--command', 'sh ver', '--input', `${CASE}.raw`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expected);
  }, 60_000);

  it('reads the output from stdin', async () => {
    // runOpsdeck gives the child no stdin, so this one spawns it with the file as stdin.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src/main.ts'), 'parse', '--platform', 'cisco_ios', '--command', 'show version'],
      {
        cwd: ROOT,
        env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OPSDECK_'))), ...env() },
        stdio: [fs.openSync(`${CASE}.raw`, 'r'), 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual(expected);
  }, 60_000);

  it('parses with --template, --parser and a local --template-file', async () => {
    const ciena = fileURLToPath(new URL('./fixtures/ciena-saos-port-show.txt', import.meta.url));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-tpl-'));
    fs.writeFileSync(path.join(dir, 'mine.textfsm'), 'Value HOST (\\S+)\n\nStart\n  ^${HOST}\\s+uptime -> Record\n');
    const [byName, native, own] = await Promise.all([
      run(['--template', 'cisco_ios_show_version.textfsm', '--input', `${CASE}.raw`]),
      run(['--parser', 'ciena_saos.port_show', '--input', ciena]),
      run(['--template-file', path.join(dir, 'mine.textfsm'), '--input', `${CASE}.raw`]),
    ]);
    expect(JSON.parse(byName.stdout)).toEqual(expected);
    expect(native.code).toBe(0);
    expect(JSON.parse(native.stdout)).toHaveLength(6);
    expect(JSON.parse(own.stdout)).toEqual([{ host: 'router1' }]);
  }, 120_000);

  it('exits 2 with a clear message on bad usage, unknown commands and broken templates', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-tpl-'));
    fs.writeFileSync(path.join(dir, 'bad.textfsm'), 'Value A (\\S+)\n\nStart\n  ^${B} -> Record\n');
    // Started together: each process start costs seconds under tsx.
    const [none, half, unknown, missing, bad, noLibrary] = await Promise.all([
      run(['--input', `${CASE}.raw`]),
      run(['--platform', 'cisco_ios', '--input', `${CASE}.raw`]),
      run(['--platform', 'cisco_ios', '--command', 'show nothing', '--input', `${CASE}.raw`]),
      run(['--template', 'cisco_ios_show_version.textfsm', '--input', '/nonexistent/out.txt']),
      run(['--template-file', path.join(dir, 'bad.textfsm'), '--input', `${CASE}.raw`]),
      run(['--platform', 'cisco_ios', '--command', 'show version', '--input', `${CASE}.raw`], { OPSDECK_TEXTFSM_LIBRARY_DIRS: '' }),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^opsdeck parse: give exactly one of --platform\/--command/);
    expect(half.code).toBe(2);
    expect(half.stderr).toContain('--platform and --command go together');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^opsdeck parse: .*\[PARSER_TEMPLATE_NOT_FOUND\]/);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read input file '/nonexistent/out.txt': ENOENT");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/\[PARSER_TEMPLATE_INVALID\]\n {2}template:4: /);
    expect(noLibrary.code).toBe(2);
    expect(noLibrary.stderr).toContain('set OPSDECK_TEXTFSM_LIBRARY_DIRS');
  }, 120_000);
});
