import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './process.js';

/**
 * The fenced code blocks of the documentation, for test/docs-examples.test.ts. A block is
 * classified by its language and by an HTML comment on the line right before its fence:
 *
 * - `sh` / `bash` / `shell`: run with bash (see the test for the environment it gets);
 * - `json` after `<!-- response: METHOD /path STATUS -->`: checked against that response's schema
 *   (`… STATUS as printed above`: and equal to the last line the `sh` block right above printed);
 * - any block after `<!-- not-run: reason -->`: not run, listed with its reason;
 * - anything else is an error: every block is run, checked, or explicitly not run.
 */
export interface DocBlock {
  file: string;
  /** 1-based line of the opening fence */
  line: number;
  lang: string;
  body: string;
  kind: 'run' | 'response' | 'not-run' | 'unclassified';
  /** the not-run reason, or the `METHOD /path STATUS` of a response */
  note: string;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/;
const MARKER = /^<!--\s*(not-run|response):\s*(.*?)\s*-->$/;
const SHELLS = new Set(['sh', 'bash', 'shell']);

/** Splits one Markdown text into its fenced blocks. */
export function extractBlocks(file: string, text: string): DocBlock[] {
  const lines = text.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const fence = open[2]!;
    const lang = open[3]!.toLowerCase();
    let end = i + 1;
    const closes = (l: string) => l.trimStart().startsWith(fence) && /^\s*[`~]+\s*$/.test(l);
    while (end < lines.length && !closes(lines[end]!)) end++;
    const marker = MARKER.exec((lines[i - 1] ?? '').trim());
    // a fence indented in a list item indents its lines as much
    const body = lines
      .slice(i + 1, end)
      .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
      .join('\n');
    let kind: DocBlock['kind'] = 'unclassified';
    let note = '';
    if (marker?.[1] === 'not-run') [kind, note] = ['not-run', marker[2]!];
    else if (marker?.[1] === 'response' && lang === 'json') [kind, note] = ['response', marker[2]!];
    else if (!marker && SHELLS.has(lang)) kind = 'run';
    blocks.push({ file, line: i + 1, lang, body, kind, note });
    i = end;
  }
  return blocks;
}

/** README.md and every docs/*.md, relative to the repository root. */
export function documentationFiles(): string[] {
  const docs = fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort();
  return ['README.md', ...docs.map((f) => `docs/${f}`)];
}

/** Every block of every documentation file. */
export function documentationBlocks(): DocBlock[] {
  return documentationFiles().flatMap((f) => extractBlocks(f, fs.readFileSync(path.join(ROOT, f), 'utf8')));
}
