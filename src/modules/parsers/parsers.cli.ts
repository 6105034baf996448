import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { AppError } from '../../platform/errors.js';
import { SYSTEM_ACTOR } from '../../platform/http/auth.js';
import { createMemoryCustomTemplateStore } from './custom-template.store.js';
import { createParsersService, type ParseInput } from './parsers.service.js';

/**
 * `opsdeck parse`: parses command output from stdin (or --input) with the configured template
 * libraries and the native parsers, and prints the records as JSON. It reads no database, so it
 * works on any machine with the libraries; `--template-file` parses with a local template.
 * Exit codes: 0 parsed, 2 bad usage or input (the message says which), 1 anything else.
 */
export const PARSE_HELP = `Usage: opsdeck parse (--platform P --command C | --template NAME | --parser ID | --template-file FILE) [--input FILE]

Parses command output (stdin, or --input FILE) and prints the records as JSON.
  --platform, --command   look the template up in the library index (abbreviations work: "sh ip int br")
  --template NAME         a library template by file name (a.textfsm:b.textfsm merges)
  --parser ID             a parser id from GET /api/v1/parsers (ciena_saos.port_show, textfsm:<name>)
  --template-file FILE    a TextFSM template file of your own
Template libraries come from OPSDECK_TEXTFSM_LIBRARY_DIRS.`;

export interface ParseCliDeps {
  libraryDirs: readonly string[];
  /** Reads all of stdin. */
  readStdin(): Promise<string>;
  stdinIsTty: boolean;
}

export interface CliResult {
  code: 0 | 1 | 2;
  stdout: string;
  stderr: string;
}

const usage = (message: string): CliResult => ({ code: 2, stdout: '', stderr: `opsdeck parse: ${message}\n${PARSE_HELP}\n` });

async function readSource(path: string, what: string): Promise<string | CliResult> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    return { code: 2, stdout: '', stderr: `opsdeck parse: cannot read ${what} '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n` };
  }
}

/** Runs `opsdeck parse <argv>`; never exits the process (main.ts does). */
export async function runParseCommand(argv: readonly string[], deps: ParseCliDeps): Promise<CliResult> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        platform: { type: 'string' },
        command: { type: 'string' },
        template: { type: 'string' },
        parser: { type: 'string' },
        'template-file': { type: 'string' },
        input: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return usage((err as Error).message);
  }
  if (values.help) return { code: 0, stdout: `${PARSE_HELP}\n`, stderr: '' };
  const { platform, command, template, parser } = values as Record<string, string | undefined>;
  const templateFile = values['template-file'] as string | undefined;
  const chosen = [platform !== undefined || command !== undefined, template !== undefined, parser !== undefined, templateFile !== undefined].filter(
    Boolean,
  ).length;
  if (chosen !== 1) return usage('give exactly one of --platform/--command, --template, --parser, --template-file');
  if ((platform === undefined) !== (command === undefined)) return usage('--platform and --command go together');

  const customTemplates = createMemoryCustomTemplateStore();
  let input: ParseInput;
  const inputFile = values.input as string | undefined;
  if (inputFile === undefined && deps.stdinIsTty) return usage('no input: pipe the command output in, or use --input FILE');
  const output = inputFile === undefined ? await deps.readStdin() : await readSource(inputFile, 'input file');
  if (typeof output !== 'string') return output;
  if (templateFile !== undefined) {
    const content = await readSource(templateFile, 'template file');
    if (typeof content !== 'string') return content;
    // Custom templates win by name over library files, so the local file is the one used.
    await customTemplates.put({ name: 'template-file', content });
    input = { template: 'template-file', output };
  } else if (template !== undefined) input = { template, output };
  else if (parser !== undefined) input = { parser, output };
  else input = { platform: platform as string, command: command as string, output };

  const service = createParsersService({ libraryDirs: deps.libraryDirs, customTemplates, workers: 0 });
  try {
    const result = await service.parse(SYSTEM_ACTOR, input);
    return { code: 0, stdout: `${JSON.stringify(result.records, null, 2)}\n`, stderr: '' };
  } catch (err) {
    if (err instanceof AppError && err.status < 500) {
      const where = err.errors.map((e) => `\n  ${e.path}: ${e.message}`).join('');
      const hint =
        err.code === 'PARSER_TEMPLATE_NOT_FOUND' && deps.libraryDirs.length === 0
          ? '\n  (no template library configured: set OPSDECK_TEXTFSM_LIBRARY_DIRS)'
          : '';
      return { code: 2, stdout: '', stderr: `opsdeck parse: ${err.message} [${err.code}]${where}${hint}\n` };
    }
    throw err;
  } finally {
    await service.close();
  }
}
