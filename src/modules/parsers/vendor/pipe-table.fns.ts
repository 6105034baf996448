/**
 * Helpers for the `+----+` / `| a | b |` tables CLIs such as Ciena SAOS print. Cells are split on
 * `|`; border lines (`+---+`, `|---+---|`) are recognised so parsers can track table sections.
 */
const BORDER = /^[+|][-+=|]*[+|]\s*$|^\+[-+ \w&.]*\+\s*$/;

export function isBorder(line: string): boolean {
  return BORDER.test(line.trim());
}

/** Cells of a `| a | b |` row, trimmed; null if the line is not such a row. */
export function cells(line: string): string[] | null {
  const t = line.trim();
  if (!t.startsWith('|') || !t.endsWith('|') || t.length < 2 || isBorder(t)) return null;
  return t
    .slice(1, -1)
    .split('|')
    .map((c) => c.trim());
}

/** A number from text such as `+38.125` or `-6.00`; null when there is none. */
export function toNumber(text: string | undefined): number | null {
  if (text === undefined) return null;
  const m = /^[+-]?\d+(?:\.\d+)?/.exec(text.trim());
  return m ? Number(m[0]) : null;
}
