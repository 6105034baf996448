/** Device facts in parsed CLI output: what `facts` and `ssh_command` `update_facts` write to the inventory. */
export interface Facts {
  os_version?: string;
  serial?: string;
  hostname?: string;
}

/** ntc-templates columns (any case) → device fields; list columns give their first non-empty item. */
const COLUMNS: Record<keyof Facts, string[]> = {
  os_version: ['version', 'os', 'software_version'],
  serial: ['serial', 'serial_number', 'serialnum'],
  hostname: ['hostname'],
};

/** The facts of the first parsed record (ntc-templates `show version` rows). */
export function factsOf(records: unknown): Facts {
  const first = Array.isArray(records) ? (records[0] as Record<string, unknown> | undefined) : undefined;
  if (!first || typeof first !== 'object') return {};
  const lower = new Map(Object.entries(first).map(([k, v]) => [k.toLowerCase(), v]));
  const out: Facts = {};
  for (const [field, names] of Object.entries(COLUMNS) as [keyof Facts, string[]][]) {
    for (const name of names) {
      const v = lower.get(name);
      const text = Array.isArray(v) ? v.find((x) => typeof x === 'string' && x !== '') : v;
      if (typeof text === 'string' && text.trim() !== '') {
        out[field] = text.trim().slice(0, 100);
        break;
      }
    }
  }
  return out;
}
