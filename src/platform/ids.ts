import { v7 as uuidv7, validate, version } from 'uuid';

/** A new UUIDv7: time-ordered, so ids sort by creation and index well. */
export function newId(): string {
  return uuidv7();
}

export function isUuid(value: string): boolean {
  return validate(value);
}

export function isUuidV7(value: string): boolean {
  return validate(value) && version(value) === 7;
}

/** Current time as ISO 8601 UTC with `Z` and milliseconds: the one format stored and served. */
export function nowIso(clock: () => number = Date.now): string {
  return new Date(clock()).toISOString();
}
