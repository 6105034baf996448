/**
 * Checks on the values users hand to git: remote URLs, refs and paths inside a repository.
 * Everything here is pure; `git.ts` runs the commands. A value that fails is never passed on.
 */

/** Any C0 control character or DEL. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

export type GitScheme = 'https' | 'http' | 'ssh' | 'git' | 'file';
export const GIT_SCHEMES: readonly GitScheme[] = ['https', 'http', 'ssh', 'git', 'file'];

export interface ParsedGitUrl {
  scheme: GitScheme;
  /** The URL as git gets it (scp-like `user@host:path` is kept as written). */
  url: string;
  host: string | null;
}

export type UrlCheck = { ok: true; value: ParsedGitUrl } | { ok: false; reason: string };

// scp-like ssh: `git@host:group/repo.git` (no scheme, user required so a Windows drive or a
// local `a:b` path is never taken for a host).
const SCP_LIKE = /^([A-Za-z0-9._-]{1,64})@([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]):(?!\/\/)([A-Za-z0-9._~/+-]{1,1024})$/;

/** Parses and checks a remote URL against the enabled schemes. */
export function checkGitUrl(raw: string, allowed: readonly GitScheme[]): UrlCheck {
  if (raw.length === 0 || raw.length > 2048) return { ok: false, reason: 'must be 1 to 2048 characters' };
  if (raw.startsWith('-')) return { ok: false, reason: 'must not start with "-" (it would be read as an option)' };
  // NOTE: no whitespace or control characters: git splits some values and terminals render them.
  if (/\s/.test(raw) || hasControl(raw)) return { ok: false, reason: 'must not contain whitespace or control characters' };
  // `ext::sh -c …`, `fd::3`: git's transport helpers run commands or open descriptors.
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(raw)) return { ok: false, reason: 'transport helpers (such as ext::) are refused' };
  const scp = SCP_LIKE.exec(raw);
  if (scp) {
    if (!allowed.includes('ssh')) return { ok: false, reason: `scheme ssh is not enabled (enabled: ${allowed.join(', ')})` };
    if (scp[3]!.startsWith('-')) return { ok: false, reason: 'the path must not start with "-"' };
    return { ok: true, value: { scheme: 'ssh', url: raw, host: scp[2]! } };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'is not a URL (scheme://host/path or user@host:path)' };
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (!(GIT_SCHEMES as readonly string[]).includes(scheme)) return { ok: false, reason: `scheme ${scheme} is not supported (one of: ${allowed.join(', ')})` };
  if (!allowed.includes(scheme as GitScheme)) return { ok: false, reason: `scheme ${scheme} is not enabled (enabled: ${allowed.join(', ')})` };
  if (url.password) return { ok: false, reason: 'must not carry a password; store it as a credential and set credential_id' };
  if (scheme === 'file') {
    if (url.host !== '') return { ok: false, reason: 'file URLs name a local path: file:///path' };
    return { ok: true, value: { scheme: 'file', url: raw, host: null } };
  }
  if (url.hostname === '') return { ok: false, reason: 'needs a host' };
  if (url.hostname.startsWith('-') || url.username.startsWith('-')) return { ok: false, reason: 'host and user must not start with "-"' };
  if (url.search || url.hash) return { ok: false, reason: 'must not have a query or fragment' };
  return { ok: true, value: { scheme: scheme as GitScheme, url: raw, host: url.hostname } };
}

/** `https://user:secret@host/x` → `https://user:***@host/x`; anything else unchanged. */
export function maskUrl(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^/@\s:]*):([^/@\s]*)@/gi, '$1$2:***@');
}

/** Masks URL passwords and every given secret in free text (git's stderr, error messages). */
export function maskSecrets(text: string, secrets: readonly string[] = []): string {
  let out = maskUrl(text);
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
  return out;
}

/**
 * A ref users may name: a branch or tag name, a full or abbreviated commit id, optionally with
 * `~n` or `^` suffixes. Refuses option-looking values, `..` ranges, `@{…}` reflog syntax and
 * everything `git check-ref-format` would.
 */
export function checkRef(ref: string): string | null {
  if (ref.length === 0 || ref.length > 255) return 'must be 1 to 255 characters';
  if (ref.startsWith('-')) return 'must not start with "-" (it would be read as an option)';
  if (ref.includes('..')) return 'must not contain ".." (ranges are not refs)';
  if (ref.includes('@{')) return 'must not contain "@{"';
  if (!/^[A-Za-z0-9._/-]+(?:[~^][0-9]{0,4})*$/.test(ref)) return 'may contain letters, digits, ".", "_", "-", "/" and a ~n or ^ suffix';
  if (/(^|\/)\.|\.lock($|\/)|\/\/|\/$|\.$/.test(ref.replace(/[~^][0-9]*$/g, ''))) return 'is not a valid ref name';
  return null;
}

/**
 * A path inside the repository: relative, normalised, no `..`, no `.git` component. Returns the
 * normalised path, or an error. Symlinks are refused where the tree is read (`git.ts#readBlob`).
 */
export function checkRepoPath(raw: string): { ok: true; path: string } | { ok: false; reason: string } {
  if (raw.length > 1024) return { ok: false, reason: 'must be at most 1024 characters' };
  if (raw.includes('\\') || hasControl(raw)) return { ok: false, reason: 'must not contain control characters or backslashes' };
  if (raw.startsWith('/')) return { ok: false, reason: 'must be relative to the repository (no leading "/")' };
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) return { ok: false, reason: 'must not contain ".." (no path outside the repository)' };
  if (parts.some((p) => p.toLowerCase() === '.git')) return { ok: false, reason: 'must not name .git' };
  if (parts[0]?.startsWith('-')) return { ok: false, reason: 'must not start with "-"' };
  if (parts.some((p) => p.startsWith(':'))) return { ok: false, reason: 'must not start a component with ":" (pathspec magic)' };
  return { ok: true, path: parts.join('/') };
}

/** Joins the repository's base path and a user path, both already checked. */
export function joinRepoPath(base: string, rel: string): string {
  return [base, rel].filter((p) => p !== '').join('/');
}
