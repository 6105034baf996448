import v8 from 'node:v8';

/**
 * Past 16 MB of executable code (and 1 MB of RegExp code), V8 compiles every new RegExp without
 * its optimisations (`TooMuchRegExpCode` in regexp.cc): a process that has compiled much of a
 * large template library would parse new templates up to 3x slower. Parse workers ask to be
 * replaced past this limit, below V8's; their successors compile the templates they meet again,
 * about 1 ms each.
 */
export const RETIRE_AT_CODE_BYTES = 12 * 1024 * 1024;

/** Bytes used in V8's code spaces of this isolate. */
export function codeSpaceBytes(): number {
  return v8
    .getHeapSpaceStatistics()
    .filter((s) => s.space_name.startsWith('code'))
    .reduce((n, s) => n + s.space_used_size, 0);
}
