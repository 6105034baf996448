/**
 * Pure rules of the files module: tus `Upload-Metadata`, HTTP ranges, the content sniff that
 * decides a file's type, the upload policy and safe download names.
 */
import path from 'node:path';
import type { FieldError } from '../../platform/errors.js';

/** tus `Upload-Metadata`: `key base64value,key2 base64value2` (a key may have no value). Null when malformed. */
export function parseUploadMetadata(header: string | undefined): Record<string, string> | null {
  const out: Record<string, string> = {};
  if (header === undefined || header.trim() === '') return out;
  for (const pair of header.split(',')) {
    const [key, value, extra] = pair.trim().split(' ');
    if (!key || extra !== undefined || !/^[A-Za-z0-9_.-]{1,64}$/.test(key) || key in out) return null;
    if (value !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) return null;
    out[key] = value === undefined ? '' : Buffer.from(value, 'base64').toString('utf8');
  }
  return out;
}

export type RangeResult = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * One `Range: bytes=` range of a file of `size` bytes (RFC 9110 §14): `a-b`, `a-`, `-n`.
 * Several ranges, or another unit, are answered with the whole file (allowed by the RFC);
 * a syntactically valid range that selects nothing is unsatisfiable (416).
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'full' };
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return header.trim().startsWith('bytes=') && !header.includes(',') ? { kind: 'unsatisfiable' } : { kind: 'full' };
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}

export interface Sniffed {
  /** The media type the content says, e.g. `image/png`, `application/x-qemu-disk`. */
  mime: string;
  /** The extensions a file of this type may carry (empty: any allowed extension). */
  extensions: readonly string[];
}

const DISK_SIGNATURES: readonly { magic: Buffer; at: number; type: Sniffed }[] = [
  { magic: Buffer.from([0x51, 0x46, 0x49, 0xfb]), at: 0, type: { mime: 'application/x-qemu-disk', extensions: ['.qcow2', '.qcow', '.img'] } },
  { magic: Buffer.from('KDMV'), at: 0, type: { mime: 'application/x-vmdk', extensions: ['.vmdk'] } },
  { magic: Buffer.from('# Disk DescriptorFile'), at: 0, type: { mime: 'application/x-vmdk', extensions: ['.vmdk'] } },
  { magic: Buffer.from('CD001'), at: 0x8001, type: { mime: 'application/x-iso9660-image', extensions: ['.iso', '.img'] } },
];

/** Bytes the sniff reads from the start of a file (covers the ISO 9660 volume descriptor). */
export const SNIFF_BYTES = 0x8001 + 5;

const EXTENSION_ALIASES: Record<string, readonly string[]> = { jpg: ['.jpg', '.jpeg'], tif: ['.tif', '.tiff'], gz: ['.gz', '.tgz'], 'tar.gz': ['.tgz', '.gz'] };

/**
 * The type of a file by its first bytes: disk image signatures first, then `file-type`'s answer
 * (passed in as `detected`), then text (valid UTF-8 without NUL) or binary. The name plays no part.
 */
export function sniff(head: Buffer, detected: { ext: string; mime: string } | undefined): Sniffed {
  for (const s of DISK_SIGNATURES) {
    if (head.length >= s.at + s.magic.length && head.subarray(s.at, s.at + s.magic.length).equals(s.magic)) return s.type;
  }
  if (detected) {
    const ext = detected.ext === 'xml' ? [] : (EXTENSION_ALIASES[detected.ext] ?? [`.${detected.ext}`]);
    return { mime: detected.mime, extensions: detected.mime === 'image/svg+xml' ? ['.svg'] : ext };
  }
  if (head.includes(0)) return { mime: 'application/octet-stream', extensions: [] };
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, lastCompleteUtf8(head)));
    return { mime: 'text/plain', extensions: [] };
  } catch {
    return { mime: 'application/octet-stream', extensions: [] };
  }
}

/** The head cut before a multi-byte character the read split (a head is the first N bytes of a file). */
function lastCompleteUtf8(head: Buffer): number {
  for (let i = head.length - 1; i >= Math.max(0, head.length - 4); i--) {
    const b = head[i]!;
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return head.length - i >= need ? head.length : i;
  }
  return head.length;
}

export interface UploadPolicy {
  maxBytes: number;
  extensions: readonly string[];
  types: readonly string[];
}

/** The lower-cased extension of a file name (`.tar.gz` counts as `.gz`), or ''. */
export function extensionOf(name: string): string {
  return path.extname(name).toLowerCase();
}

/** What the policy says about a declared name and size, before any byte arrives. */
export function checkDeclared(name: string, size: number, policy: UploadPolicy, field: string): FieldError[] {
  const errors: FieldError[] = [];
  const ext = extensionOf(name);
  if (!policy.extensions.map((e) => e.toLowerCase()).includes(ext)) {
    errors.push({ path: `${field}.filename`, message: `extension '${ext || '(none)'}' is not allowed; allowed: ${policy.extensions.join(', ')}` });
  }
  if (size > policy.maxBytes) errors.push({ path: `${field}.length`, message: `must be at most ${policy.maxBytes} bytes` });
  return errors;
}

/** What the policy says about the content's type, once its first bytes are known. */
export function checkContent(name: string, type: Sniffed, policy: UploadPolicy): string | null {
  if (!policy.types.includes(type.mime)) return `content of type '${type.mime}' is not allowed; allowed: ${policy.types.join(', ')}`;
  const ext = extensionOf(name);
  if (type.extensions.length > 0 && !type.extensions.includes(ext)) return `the content is '${type.mime}', which a '${ext}' file cannot be`;
  return null;
}

/** A stored name: the last path segment, control characters and separators removed, at most 255 characters. */
export function cleanName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const cleaned = base.replace(/[\u0000-\u001f\u007f"]/g, '_').trim();
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? 'file' : cleaned.slice(0, 255);
}

/** `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): never inline. */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

export const SHA256_PATTERN = /^[0-9a-f]{64}$/;
