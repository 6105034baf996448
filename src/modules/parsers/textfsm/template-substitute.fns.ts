/**
 * Python `string.Template.substitute` as TextFSM applies it to rule regexes: `${Name}` and
 * `$Name` (longest ASCII identifier) become the Value's group, `$$` becomes `$`; any other `$`,
 * or an unknown name, fails. Returns null on failure (the caller owns the error message).
 */
const TOKEN = /\$(?:(\$)|([_a-zA-Z][_a-zA-Z0-9]*)|\{([_a-zA-Z][_a-zA-Z0-9]*)\}|())/g;

export function substituteValues(match: string, values: ReadonlyMap<string, string>): string | null {
  let failed = false;
  const out = match.replace(TOKEN, (_all, escaped?: string, named?: string, braced?: string) => {
    if (escaped !== undefined) return '$';
    const name = named ?? braced;
    const value = name === undefined ? undefined : values.get(name);
    if (value === undefined) failed = true;
    return value ?? '';
  });
  return failed ? null : out;
}
