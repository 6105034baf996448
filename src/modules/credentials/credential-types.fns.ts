import type { FieldError } from '../../platform/errors.js';

/**
 * What each credential type holds. Public fields are stored in clear (`attributes`); secret
 * fields are sealed and never served. This table is the per-type schema: `checkFields`
 * validates a create or the merged state after an update against it.
 */
export const CREDENTIAL_TYPES = ['ssh', 'snmp_v2c', 'snmp_v3', 'api_token', 'basic', 'certificate', 'winrm'] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

export const SNMP_SECURITY_LEVELS = ['noAuthNoPriv', 'authNoPriv', 'authPriv'] as const;
export const SNMP_AUTH_PROTOCOLS = ['md5', 'sha', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
export const SNMP_PRIV_PROTOCOLS = ['des', 'aes128', 'aes192', 'aes256'] as const;
export const WINRM_TRANSPORTS = ['ntlm', 'kerberos', 'basic', 'credssp'] as const;

export const PUBLIC_FIELDS = ['username', 'security_level', 'auth_protocol', 'priv_protocol', 'header_name', 'certificate', 'transport'] as const;
export const SECRET_FIELDS = ['password', 'private_key', 'passphrase', 'enable_secret', 'community', 'auth_key', 'priv_key', 'token'] as const;
export type PublicField = (typeof PUBLIC_FIELDS)[number];
export type SecretField = (typeof SECRET_FIELDS)[number];

interface TypeSpec {
  public: readonly PublicField[];
  secret: readonly SecretField[];
  required: readonly (PublicField | SecretField)[];
  /** Presence rules across fields, on the complete (merged) state. */
  rules?: (v: FieldValues) => FieldError[];
}

export type FieldValues = Partial<Record<PublicField | SecretField, string>>;

const need = (field: string, why: string): FieldError => ({ path: `body.${field}`, message: why });
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]+-----END [A-Z0-9 ]*PRIVATE KEY-----/;

/** Checks on a value's content, applied to values given in the request (stored ones passed them already). */
const FORMATS: Partial<Record<PublicField | SecretField, (v: string) => string | null>> = {
  private_key: (v) => (PRIVATE_KEY.test(v) ? null : 'is not a PEM or OpenSSH private key'),
  certificate: (v) => (/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(v) ? null : 'is not a PEM certificate'),
  // RFC 3414: agents reject pass phrases shorter than 8 characters.
  auth_key: (v) => (v.length >= 8 ? null : 'must be at least 8 characters'),
  priv_key: (v) => (v.length >= 8 ? null : 'must be at least 8 characters'),
};

export const TYPE_SPECS: Record<CredentialType, TypeSpec> = {
  ssh: {
    public: ['username'],
    secret: ['password', 'private_key', 'passphrase', 'enable_secret'],
    required: ['username'],
    rules: (v) => [
      ...(v.password === undefined && v.private_key === undefined ? [need('password', 'an ssh credential needs a password or a private_key (or both)')] : []),
      ...(v.passphrase !== undefined && v.private_key === undefined ? [need('passphrase', 'a passphrase only makes sense with a private_key')] : []),
    ],
  },
  snmp_v2c: { public: [], secret: ['community'], required: ['community'] },
  snmp_v3: {
    public: ['username', 'security_level', 'auth_protocol', 'priv_protocol'],
    secret: ['auth_key', 'priv_key'],
    required: ['username', 'security_level'],
    rules: (v) => {
      const errors: FieldError[] = [];
      const level = v.security_level;
      const auth = level === 'authNoPriv' || level === 'authPriv';
      for (const f of ['auth_protocol', 'auth_key'] as const) {
        if (auth && v[f] === undefined) errors.push(need(f, `is required with security_level ${level}`));
        if (!auth && v[f] !== undefined) errors.push(need(f, `is not used with security_level ${level}`));
      }
      for (const f of ['priv_protocol', 'priv_key'] as const) {
        if (level === 'authPriv' && v[f] === undefined) errors.push(need(f, 'is required with security_level authPriv'));
        if (level !== 'authPriv' && v[f] !== undefined) errors.push(need(f, `is not used with security_level ${level}`));
      }
      return errors;
    },
  },
  api_token: { public: ['header_name'], secret: ['token'], required: ['token'] },
  basic: { public: ['username'], secret: ['password'], required: ['username', 'password'] },
  certificate: {
    public: ['certificate'],
    secret: ['private_key', 'passphrase'],
    required: ['certificate', 'private_key'],
  },
  winrm: { public: ['username', 'transport'], secret: ['password'], required: ['username', 'password'] },
};

/**
 * Errors for given fields that do not belong to the type or have a bad format, then required
 * fields missing and cross-field rules on the merged state (`values`: given plus stored; a
 * stored secret is represented by any non-undefined placeholder).
 */
export function checkFields(type: CredentialType, values: FieldValues, given: Partial<Record<string, string | null>>): FieldError[] {
  const spec = TYPE_SPECS[type];
  const allowed = new Set<string>([...spec.public, ...spec.secret]);
  const errors: FieldError[] = [];
  for (const [f, v] of Object.entries(given)) {
    if (!allowed.has(f)) errors.push({ path: `body.${f}`, message: `is not a field of a ${type} credential` });
    else if (typeof v === 'string') {
      const problem = FORMATS[f as PublicField | SecretField]?.(v);
      if (problem) errors.push({ path: `body.${f}`, message: problem });
    } else if (spec.required.includes(f as PublicField)) {
      errors.push({ path: `body.${f}`, message: `is required for a ${type} credential and cannot be removed` });
    }
  }
  if (errors.length > 0) return errors;
  for (const f of spec.required) if (values[f] === undefined) errors.push({ path: `body.${f}`, message: `is required for a ${type} credential` });
  if (errors.length > 0) return errors;
  return spec.rules?.(values) ?? [];
}

/** Splits a request's type fields into public and secret parts (undefined = not given, null = remove). */
export function splitFields(input: Record<string, unknown>): { pub: Record<string, string | null>; secret: Record<string, string | null> } {
  const pub: Record<string, string | null> = {};
  const secret: Record<string, string | null> = {};
  for (const f of PUBLIC_FIELDS) if (input[f] !== undefined) pub[f] = input[f] as string | null;
  for (const f of SECRET_FIELDS) if (input[f] !== undefined) secret[f] = input[f] as string | null;
  return { pub, secret };
}

/** Every string a plaintext credential holds that a log must never show (for scrubbers). */
export function secretValues(secrets: Record<string, string>): string[] {
  return Object.values(secrets).filter((v) => v.length > 0);
}
