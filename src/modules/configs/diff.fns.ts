import { parsePatch, structuredPatch, type StructuredPatchHunk } from 'diff';

/** One line of a hunk with both sides' line numbers: side-by-side views read it directly. */
export interface DiffLine {
  type: 'context' | 'add' | 'delete';
  old_line: number | null;
  new_line: number | null;
  text: string;
}

export interface DiffHunk {
  header: string;
  old_start: number;
  old_lines: number;
  new_start: number;
  new_lines: number;
  lines: DiffLine[];
}

export interface DiffFile {
  old_path: string | null;
  new_path: string | null;
  status: 'added' | 'deleted' | 'modified' | 'renamed';
  binary: boolean;
  additions: number;
  deletions: number;
  hunks: DiffHunk[];
}

function toHunk(h: StructuredPatchHunk): DiffHunk {
  let oldNo = h.oldStart;
  let newNo = h.newStart;
  const lines: DiffLine[] = [];
  for (const raw of h.lines) {
    const mark = raw[0];
    const text = raw.slice(1);
    if (mark === '+') lines.push({ type: 'add', old_line: null, new_line: newNo++, text });
    else if (mark === '-') lines.push({ type: 'delete', old_line: oldNo++, new_line: null, text });
    else if (mark === ' ') lines.push({ type: 'context', old_line: oldNo++, new_line: newNo++, text });
    // `\ No newline at end of file` belongs to the line before; nothing to number.
  }
  // jsdiff numbers an empty side from 1; git's header says 0.
  const oldStart = h.oldLines === 0 ? h.oldStart - 1 : h.oldStart;
  const newStart = h.newLines === 0 ? h.newStart - 1 : h.newStart;
  return {
    header: `@@ -${oldStart},${h.oldLines} +${newStart},${h.newLines} @@`,
    old_start: oldStart,
    old_lines: h.oldLines,
    new_start: newStart,
    new_lines: h.newLines,
    lines,
  };
}

function summarise(file: Omit<DiffFile, 'additions' | 'deletions'>): DiffFile {
  let additions = 0;
  let deletions = 0;
  for (const h of file.hunks) {
    for (const l of h.lines) {
      if (l.type === 'add') additions++;
      else if (l.type === 'delete') deletions++;
    }
  }
  return { ...file, additions, deletions };
}

const unquote = (p: string) => (p.startsWith('"') ? (JSON.parse(p) as string) : p);

/** Parses `git diff` output (several files, renames, binaries) into structured files and hunks. */
export function parseGitDiff(text: string): DiffFile[] {
  const files: DiffFile[] = [];
  const chunks = text.split(/^(?=diff --git )/m).filter((c) => c.startsWith('diff --git '));
  for (const chunk of chunks) {
    const head = chunk.slice(0, chunk.search(/^@@ /m) >= 0 ? chunk.search(/^@@ /m) : chunk.length);
    const header = /^diff --git (?:"?a\/)(.+?)"? (?:"?b\/)(.+?)"?$/m.exec(head);
    let oldPath: string | null = header ? unquote(header[1]!) : null;
    let newPath: string | null = header ? unquote(header[2]!) : null;
    const renameFrom = /^rename from (.+)$/m.exec(head);
    const renameTo = /^rename to (.+)$/m.exec(head);
    if (renameFrom && renameTo) {
      oldPath = unquote(renameFrom[1]!);
      newPath = unquote(renameTo[1]!);
    }
    let status: DiffFile['status'] = renameFrom ? 'renamed' : 'modified';
    if (/^new file mode/m.test(head)) {
      status = 'added';
      oldPath = null;
    } else if (/^deleted file mode/m.test(head)) {
      status = 'deleted';
      newPath = null;
    }
    const binary = /^Binary files /m.test(head);
    const hunks = binary || !/^@@ /m.test(chunk) ? [] : (parsePatch(chunk)[0]?.hunks ?? []).map(toHunk);
    files.push(summarise({ old_path: oldPath, new_path: newPath, status, binary, hunks }));
  }
  return files;
}

/** Two texts compared in memory (two different files, e.g. device A against device B). */
export function compareTexts(a: { path: string; text: string }, b: { path: string; text: string }, context = 3): { unified: string; file: DiffFile } {
  const patch = structuredPatch(a.path, b.path, a.text, b.text, '', '', { context });
  const hunks = patch.hunks.map(toHunk);
  const unified = [`--- a/${a.path}`, `+++ b/${b.path}`, ...hunks.flatMap((h, i) => [h.header, ...patch.hunks[i]!.lines])].join('\n') + '\n';
  return { unified: hunks.length === 0 ? '' : unified, file: summarise({ old_path: a.path, new_path: b.path, status: 'modified', binary: false, hunks }) };
}
