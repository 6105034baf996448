import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { findIndexRow, parseIndex, type TemplateIndex } from './textfsm/clitable.fns.js';

/**
 * Template libraries laid out like ntc-templates: a folder of `.textfsm` files and an `index`.
 * Opsdeck ships none; the directories come from configuration (OPSDECK_TEXTFSM_LIBRARY_DIRS).
 * Directories are searched in the order given: the first whose index has a matching row wins,
 * and a template named directly is read from the first directory that has the file. Index files
 * and template texts are read once and kept.
 */
export interface LibraryEntry {
  /** Template file names of the index row (several when the row merges templates). */
  templates: string[];
  platform: string;
  /** The Command column as written, with its `[[…]]` completions. */
  command: string;
  dir: string;
}

export interface LibraryMatch {
  templates: string[];
  dir: string;
}

export interface TemplateLibrary {
  readonly dirs: readonly string[];
  lookup(attributes: { platform: string; command: string }): Promise<LibraryMatch | null>;
  /** Text of a template by file name, from `dir` if given, else the first directory holding it. */
  read(name: string, dir?: string): Promise<{ content: string; dir: string } | null>;
  entries(platform?: string): Promise<LibraryEntry[]>;
}

const TEMPLATE_NAME = /^[\w.-]+$/;

/** True for names that can only refer to a file directly inside a library directory. */
export function isSafeTemplateName(name: string): boolean {
  return TEMPLATE_NAME.test(name) && !name.startsWith('.') && name.length <= 255;
}

export function createTemplateLibrary(dirs: readonly string[]): TemplateLibrary {
  const roots = dirs.map((d) => path.resolve(d));
  const indexes = new Map<string, Promise<TemplateIndex | null>>();
  const texts = new Map<string, Promise<string | null>>();

  const index = (dir: string): Promise<TemplateIndex | null> => {
    let loaded = indexes.get(dir);
    if (loaded === undefined) {
      const file = path.join(dir, 'index');
      loaded = readOptional(file).then((text) => (text === null ? null : parseIndex(text, file)));
      // NOTE: a failed load is not cached, so fixing the file on disk recovers without a restart.
      loaded.catch(() => indexes.delete(dir));
      indexes.set(dir, loaded);
    }
    return loaded;
  };
  const text = (file: string): Promise<string | null> => {
    let loaded = texts.get(file);
    if (loaded === undefined) {
      loaded = readOptional(file);
      texts.set(file, loaded);
    }
    return loaded;
  };

  return {
    dirs: roots,
    async lookup({ platform, command }) {
      for (const dir of roots) {
        const idx = await index(dir);
        const row = idx && findIndexRow(idx, { Platform: platform, Command: command });
        if (row) return { templates: [...row.templates], dir };
      }
      return null;
    },
    async read(name, dir) {
      if (!isSafeTemplateName(name)) return null;
      for (const root of dir === undefined ? roots : roots.filter((r) => r === dir)) {
        const content = await text(path.join(root, name));
        if (content !== null) return { content, dir: root };
      }
      return null;
    },
    async entries(platform) {
      const out: LibraryEntry[] = [];
      for (const dir of roots) {
        const idx = await index(dir);
        for (const row of idx?.rows ?? []) {
          const rowPlatform = row.columns['Platform'] ?? '';
          if (platform !== undefined && rowPlatform !== platform) continue;
          out.push({ templates: [...row.templates], platform: rowPlatform, command: row.columns['Command'] ?? '', dir });
        }
      }
      return out;
    },
  };
}

async function readOptional(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw err;
  }
}
