/**
 * The Value names and options of a template, read from its header lines only (no regex is
 * compiled). Listing hundreds of library parsers with their output schemas must not compile
 * hundreds of templates on the event loop; a template this misreads fails at parse time anyway.
 */
export interface ValueHeader {
  name: string;
  options: string[];
}

export function readValueHeader(text: string): ValueHeader[] {
  const out: ValueHeader[] = [];
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.trimEnd();
    if (line === '') break;
    if (!line.startsWith('Value ')) continue;
    const parts = line.split(' ').filter((p) => p !== '');
    if (parts.length < 3) continue;
    const optioned = !(parts[2] ?? '').startsWith('(');
    const name = optioned ? parts[2] : parts[1];
    if (name === undefined || name.startsWith('(')) continue;
    out.push({ name, options: optioned ? (parts[1] ?? '').split(',') : [] });
  }
  return out;
}
