import { createTestServer } from './server.js';

/** The OpenAPI document of the full app (SQLite, single node), as served at /api/v1/openapi.json. */
export async function generateOpenApi(): Promise<Record<string, unknown>> {
  const server = await createTestServer('sqlite');
  try {
    const res = await server.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    const spec = res.json() as Record<string, unknown>;
    // The served document carries the running version; the committed one is version-stable.
    return spec;
  } finally {
    await server.close();
  }
}

/**
 * Every query key a `filters` object parameter documents: its pattern properties, expanded.
 * The document writes them in one shape only (`^name(?:__(?:n|ic))?$`, `^(?:a|b)__isnull$`);
 * anything else throws, so a new shape cannot silently hide filters from the tests.
 */
export function filterKeys(schema: { patternProperties?: Record<string, unknown> }): string[] {
  const keys: string[] = [];
  for (const pattern of Object.keys(schema.patternProperties ?? {})) {
    const expanded = expand(pattern.replace(/^\^/, '').replace(/\$$/, ''));
    const re = new RegExp(pattern);
    for (const key of expanded) if (!re.test(key)) throw new Error(`${key} does not match ${pattern}`);
    keys.push(...expanded);
  }
  return keys;
}

/** Expands literals, `(?:a|b)` groups and an optional `?` after a group into every string it matches. */
function expand(pattern: string): string[] {
  let out = [''];
  let i = 0;
  while (i < pattern.length) {
    if (pattern.startsWith('(?:', i)) {
      let depth = 0;
      let j = i;
      for (; j < pattern.length; j++) {
        if (pattern[j] === '(') depth++;
        else if (pattern[j] === ')' && --depth === 0) break;
      }
      const inner = splitTop(pattern.slice(i + 3, j)).flatMap(expand);
      const optional = pattern[j + 1] === '?';
      const choices = optional ? ['', ...inner] : inner;
      out = out.flatMap((prefix) => choices.map((c) => prefix + c));
      i = j + (optional ? 2 : 1);
    } else if (/[A-Za-z0-9_]/.test(pattern[i]!)) {
      out = out.map((prefix) => prefix + pattern[i]);
      i++;
    } else throw new Error(`filter pattern has an unexpected '${pattern[i]}' in ${pattern}`);
  }
  return out;
}

/** Splits on `|` outside groups. */
function splitTop(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    else if (s[i] === '|' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}
